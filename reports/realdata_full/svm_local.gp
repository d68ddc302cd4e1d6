# svm_local: data in the .tsv files beside this script; run `gnuplot svm_local.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,500 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,500 font 'sans,10'
}
set output 'svm_local.'.fmt
set multiplot layout 1,2 title 'Directional Bregman divergence on real tokens: W_0 = 0 (dashed) and W_0 in the cone of the W_0 = 0 run''s selection repaired toward local optimality (solid)'
set grid
set logscale xy
set format y '10^{%L}'
set yrange [3.17e-11:*]
set xlabel 'iteration k'
set ylabel 'D_ψ'
set key bottom left
set title 'T-shirt/top vs Trouser'
plot 0.001 with lines lc 'black' dt 3 title 'target 0.001', 'svm_local_0_1_p1.1.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 1 title 'p = 1.1, cone', 'svm_div_0_1_p1.1.tsv' using 1:2 with lines lw 2 dt 2 lc 1 title 'p = 1.1, zero', 'svm_local_0_1_p1.5.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 2 title 'p = 1.5, cone', 'svm_div_0_1_p1.5.tsv' using 1:2 with lines lw 2 dt 2 lc 2 title 'p = 1.5, zero', 'svm_local_0_1_p2.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 3 title 'p = 2, cone', 'svm_div_0_1_p2.tsv' using 1:2 with lines lw 2 dt 2 lc 3 title 'p = 2, zero', 'svm_local_0_1_p3.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 4 title 'p = 3, cone', 'svm_div_0_1_p3.tsv' using 1:2 with lines lw 2 dt 2 lc 4 title 'p = 3, zero'
set title 'Shirt vs Pullover'
plot 0.001 with lines lc 'black' dt 3 title 'target 0.001', 'svm_local_6_2_p1.1.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 1 title 'p = 1.1, cone', 'svm_div_6_2_p1.1.tsv' using 1:2 with lines lw 2 dt 2 lc 1 title 'p = 1.1, zero', 'svm_local_6_2_p1.5.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 2 title 'p = 1.5, cone', 'svm_div_6_2_p1.5.tsv' using 1:2 with lines lw 2 dt 2 lc 2 title 'p = 1.5, zero', 'svm_local_6_2_p2.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 3 title 'p = 2, cone', 'svm_div_6_2_p2.tsv' using 1:2 with lines lw 2 dt 2 lc 3 title 'p = 2, zero', 'svm_local_6_2_p3.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc 4 title 'p = 3, cone', 'svm_div_6_2_p3.tsv' using 1:2 with lines lw 2 dt 2 lc 4 title 'p = 3, zero'
unset multiplot
unset output
}
