# probabilities: data in the .tsv files beside this script; run `gnuplot probabilities.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,400 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,400 font 'sans,10'
}
set output 'probabilities.'.fmt
set multiplot layout 1,3 title 'Joint toy, W_0 = 0, v_0 = 0: softmax probability of the selected token and logistic probability σ(Y_i x_{iα}^T v)'
set grid
set xlabel 'iteration k'
set yrange [0:1.05]
set key bottom right
set title 'l_{1.75}-JointGD'
plot [0:100] 'joint_p1.75.tsv' index 0 using 1:2 with lines lw 2 title 'softmax, i=1', '' index 0 using 1:3 with lines lw 2 title 'softmax, i=2', '' index 0 using 1:4 with lines dt 2 lw 2 title 'logistic, i=1', '' index 0 using 1:5 with lines dt 2 lw 2 title 'logistic, i=2'
set title 'l_{2}-JointGD'
plot [0:100] 'joint_p2.tsv' index 0 using 1:2 with lines lw 2 title 'softmax, i=1', '' index 0 using 1:3 with lines lw 2 title 'softmax, i=2', '' index 0 using 1:4 with lines dt 2 lw 2 title 'logistic, i=1', '' index 0 using 1:5 with lines dt 2 lw 2 title 'logistic, i=2'
set title 'l_{3}-JointGD'
plot [0:100] 'joint_p3.tsv' index 0 using 1:2 with lines lw 2 title 'softmax, i=1', '' index 0 using 1:3 with lines lw 2 title 'softmax, i=2', '' index 0 using 1:4 with lines dt 2 lw 2 title 'logistic, i=1', '' index 0 using 1:5 with lines dt 2 lw 2 title 'logistic, i=2'
unset multiplot
unset output
}
