# fig4_log: data in the .tsv files beside this script; run `gnuplot fig4_log.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,420 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,420 font 'sans,10'
}
set output 'fig4_log.'.fmt
set multiplot layout 1,3 title 'Directional Bregman divergence to the l_p-AttSVM of each p (median and quartiles over 100 seeds)'
set xlabel 'iteration k'
set ylabel 'D_ψ'
set key top right
set grid
set logscale y
set format y '10^{%L}'
set title 'l_{1.75}-AttGD'
plot 'curves_p1.75.tsv' using 1:4:6 with filledcurves fs transparent solid 0.2 lc 1 notitle, '' using 1:5 with lines lw 2 lc 1 title 'to l_{1.75}-SVM (median)', 'curves_p1.75.tsv' using 1:9:11 with filledcurves fs transparent solid 0.2 lc 2 notitle, '' using 1:10 with lines lw 2 lc 2 title 'to l_{2}-SVM (median)', 'curves_p1.75.tsv' using 1:14:16 with filledcurves fs transparent solid 0.2 lc 3 notitle, '' using 1:15 with lines lw 2 lc 3 title 'to l_{3}-SVM (median)'
set title 'l_{2}-AttGD'
plot 'curves_p2.tsv' using 1:4:6 with filledcurves fs transparent solid 0.2 lc 1 notitle, '' using 1:5 with lines lw 2 lc 1 title 'to l_{1.75}-SVM (median)', 'curves_p2.tsv' using 1:9:11 with filledcurves fs transparent solid 0.2 lc 2 notitle, '' using 1:10 with lines lw 2 lc 2 title 'to l_{2}-SVM (median)', 'curves_p2.tsv' using 1:14:16 with filledcurves fs transparent solid 0.2 lc 3 notitle, '' using 1:15 with lines lw 2 lc 3 title 'to l_{3}-SVM (median)'
set title 'l_{3}-AttGD'
plot 'curves_p3.tsv' using 1:4:6 with filledcurves fs transparent solid 0.2 lc 1 notitle, '' using 1:5 with lines lw 2 lc 1 title 'to l_{1.75}-SVM (median)', 'curves_p3.tsv' using 1:9:11 with filledcurves fs transparent solid 0.2 lc 2 notitle, '' using 1:10 with lines lw 2 lc 2 title 'to l_{2}-SVM (median)', 'curves_p3.tsv' using 1:14:16 with filledcurves fs transparent solid 0.2 lc 3 notitle, '' using 1:15 with lines lw 2 lc 3 title 'to l_{3}-SVM (median)'
unset multiplot
unset output
}
