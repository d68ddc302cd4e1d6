# svm_divergence: data in the .tsv files beside this script; run `gnuplot svm_divergence.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1100,800 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1100,800 font 'sans,10'
}
set output 'svm_divergence.'.fmt
set multiplot layout 2,2 title 'Normalized l_p-AttGD on real tokens (svm.md)'
set grid
set logscale xy
set format y '10^{%L}'
set xlabel 'iteration k'
set title 'T-shirt/top vs Trouser: Bregman divergence to the l_p-AttSVM at the final tokens'
set key bottom left
plot 'svm_div_0_1_p1.1.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 1 title 'p = 1.1', 'svm_div_0_1_p1.5.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 2 title 'p = 1.5', 'svm_div_0_1_p2.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 3 title 'p = 2', 'svm_div_0_1_p3.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 4 title 'p = 3'
set title 'Shirt vs Pullover: Bregman divergence to the l_p-AttSVM at the final tokens'
set key bottom left
plot 'svm_div_6_2_p1.1.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 1 title 'p = 1.1', 'svm_div_6_2_p1.5.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 2 title 'p = 1.5', 'svm_div_6_2_p2.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 3 title 'p = 2', 'svm_div_6_2_p3.tsv' using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc 4 title 'p = 3'
set title 'T-shirt/top vs Trouser: token changes per 1000 iterations (0: not drawn)'
set key top right
plot 'svm_div_0_1_p1.1.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 1 title 'p = 1.1', 'svm_div_0_1_p1.5.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 2 title 'p = 1.5', 'svm_div_0_1_p2.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 3 title 'p = 2', 'svm_div_0_1_p3.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 4 title 'p = 3'
set title 'Shirt vs Pullover: token changes per 1000 iterations (0: not drawn)'
set key top right
plot 'svm_div_6_2_p1.1.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 1 title 'p = 1.1', 'svm_div_6_2_p1.5.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 2 title 'p = 1.5', 'svm_div_6_2_p2.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 3 title 'p = 2', 'svm_div_6_2_p3.tsv' using 1:($4 > 0 ? $4 : NaN) with linespoints lw 2 pt 7 ps 0.4 lc 4 title 'p = 3'
unset multiplot
unset output
}
