# paths: data in the .tsv files beside this script; run `gnuplot paths.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,800 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,800 font 'sans,10'
}
set output 'paths.'.fmt
set multiplot layout 2,3 title 'Joint toy: v_k with the v-SVM ray (top), W_k/||W_k||_p entries with W^{mm}/||W^{mm}||_p (bottom)'
set grid
set title 'v_k, l_{1.75}'
set xlabel 'v[0]'
set ylabel 'v[1]'
set key top left
plot 'joint_p1.75.tsv' index 0 using 6:7 with lines lw 2 title 'v_k', '' index 1 using 2:3 with lines dt 2 lw 2 title 'v^{mm} ray'
set title 'v_k, l_{2}'
set xlabel 'v[0]'
set ylabel 'v[1]'
set key top left
plot 'joint_p2.tsv' index 0 using 6:7 with lines lw 2 title 'v_k', '' index 1 using 2:3 with lines dt 2 lw 2 title 'v^{mm} ray'
set title 'v_k, l_{3}'
set xlabel 'v[0]'
set ylabel 'v[1]'
set key top left
plot 'joint_p3.tsv' index 0 using 6:7 with lines lw 2 title 'v_k', '' index 1 using 2:3 with lines dt 2 lw 2 title 'v^{mm} ray'
set title 'W_k/||W_k||_{1.75}'
set xlabel 'iteration k'
set ylabel ''
set logscale x
set key bottom right
plot for [e=0:3] 'joint_p1.75.tsv' index 0 using ($1+1):(column(8+e)) with lines lw 2 lc e+1 title sprintf('entry %d', e), for [e=0:3] '' index 1 every ::1::1 using (1):(column(4+e)):(2000):(0) with vectors nohead dt 2 lc e+1 notitle
unset logscale x
set title 'W_k/||W_k||_{2}'
set xlabel 'iteration k'
set ylabel ''
set logscale x
set key bottom right
plot for [e=0:3] 'joint_p2.tsv' index 0 using ($1+1):(column(8+e)) with lines lw 2 lc e+1 title sprintf('entry %d', e), for [e=0:3] '' index 1 every ::1::1 using (1):(column(4+e)):(2000):(0) with vectors nohead dt 2 lc e+1 notitle
unset logscale x
set title 'W_k/||W_k||_{3}'
set xlabel 'iteration k'
set ylabel ''
set logscale x
set key bottom right
plot for [e=0:3] 'joint_p3.tsv' index 0 using ($1+1):(column(8+e)) with lines lw 2 lc e+1 title sprintf('entry %d', e), for [e=0:3] '' index 1 every ::1::1 using (1):(column(4+e)):(2000):(0) with vectors nohead dt 2 lc e+1 notitle
unset logscale x
unset multiplot
unset output
}
