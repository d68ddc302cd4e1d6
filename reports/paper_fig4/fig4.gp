# fig4: data in the .tsv files beside this script; run `gnuplot fig4.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,420 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,420 font 'sans,10'
}
set output 'fig4.'.fmt
set multiplot layout 1,3 title 'Directional Bregman divergence to the l_p-AttSVM of each p (mean ± std over 100 seeds)'
set xlabel 'iteration k'
set ylabel 'D_ψ'
set key top right
set grid
set yrange [0:*]
set title 'l_{1.75}-AttGD'
plot 'curves_p1.75.tsv' using 1:($2-$3):($2+$3) with filledcurves fs transparent solid 0.2 lc 1 notitle, '' using 1:2 with lines lw 2 lc 1 title 'to l_{1.75}-SVM (mean)', 'curves_p1.75.tsv' using 1:($7-$8):($7+$8) with filledcurves fs transparent solid 0.2 lc 2 notitle, '' using 1:7 with lines lw 2 lc 2 title 'to l_{2}-SVM (mean)', 'curves_p1.75.tsv' using 1:($12-$13):($12+$13) with filledcurves fs transparent solid 0.2 lc 3 notitle, '' using 1:12 with lines lw 2 lc 3 title 'to l_{3}-SVM (mean)'
set title 'l_{2}-AttGD'
plot 'curves_p2.tsv' using 1:($2-$3):($2+$3) with filledcurves fs transparent solid 0.2 lc 1 notitle, '' using 1:2 with lines lw 2 lc 1 title 'to l_{1.75}-SVM (mean)', 'curves_p2.tsv' using 1:($7-$8):($7+$8) with filledcurves fs transparent solid 0.2 lc 2 notitle, '' using 1:7 with lines lw 2 lc 2 title 'to l_{2}-SVM (mean)', 'curves_p2.tsv' using 1:($12-$13):($12+$13) with filledcurves fs transparent solid 0.2 lc 3 notitle, '' using 1:12 with lines lw 2 lc 3 title 'to l_{3}-SVM (mean)'
set title 'l_{3}-AttGD'
plot 'curves_p3.tsv' using 1:($2-$3):($2+$3) with filledcurves fs transparent solid 0.2 lc 1 notitle, '' using 1:2 with lines lw 2 lc 1 title 'to l_{1.75}-SVM (mean)', 'curves_p3.tsv' using 1:($7-$8):($7+$8) with filledcurves fs transparent solid 0.2 lc 2 notitle, '' using 1:7 with lines lw 2 lc 2 title 'to l_{2}-SVM (mean)', 'curves_p3.tsv' using 1:($12-$13):($12+$13) with filledcurves fs transparent solid 0.2 lc 3 notitle, '' using 1:12 with lines lw 2 lc 3 title 'to l_{3}-SVM (mean)'
unset multiplot
unset output
}
