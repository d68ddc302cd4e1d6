# saturation: data in the .tsv files beside this script; run `gnuplot saturation.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,420 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,420 font 'sans,10'
}
set output 'saturation.'.fmt
set multiplot layout 1,3 title 'Directional Bregman divergence to the own-p l_p-AttSVM, saturation-safe steps vs G/(||G||_q + 1e-12): median and quartiles over the same seeds 1..20'
set logscale xy
set format y '10^{%L}'
set grid
set xlabel 'iteration k'
set ylabel 'D_ψ'
set key bottom left
set title 'l_{1.75}-AttGD'
plot 'saturation.tsv' index 0 using 2:7:9 with filledcurves fs transparent solid 0.2 lc 1 notitle, '' index 0 using 2:8 with linespoints lw 2 pt 7 lc 1 title 'saturation-safe (mdatt)', '' index 0 using 2:10:12 with filledcurves fs transparent solid 0.2 lc 2 notitle, '' index 0 using 2:11 with linespoints lw 2 pt 5 dt 2 lc 2 title 'naive + eps guard'
set title 'l_{2}-AttGD'
plot 'saturation.tsv' index 1 using 2:7:9 with filledcurves fs transparent solid 0.2 lc 1 notitle, '' index 1 using 2:8 with linespoints lw 2 pt 7 lc 1 title 'saturation-safe (mdatt)', '' index 1 using 2:10:12 with filledcurves fs transparent solid 0.2 lc 2 notitle, '' index 1 using 2:11 with linespoints lw 2 pt 5 dt 2 lc 2 title 'naive + eps guard'
set title 'l_{3}-AttGD'
plot 'saturation.tsv' index 2 using 2:7:9 with filledcurves fs transparent solid 0.2 lc 1 notitle, '' index 2 using 2:8 with linespoints lw 2 pt 7 lc 1 title 'saturation-safe (mdatt)', '' index 2 using 2:10:12 with filledcurves fs transparent solid 0.2 lc 2 notitle, '' index 2 using 2:11 with linespoints lw 2 pt 5 dt 2 lc 2 title 'naive + eps guard'
unset multiplot
unset output
}
