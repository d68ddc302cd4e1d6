# paths: data in the .tsv files beside this script; run `gnuplot paths.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,420 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,420 font 'sans,10'
}
set output 'paths.'.fmt
set multiplot layout 1,3 title 'Seed 1, W_0 = 0: path of (W_k[1][2], W_k[3][4]) and the l_p-AttSVM ray (both axes to the same scale)'
set grid
set key bottom right
set xlabel 'W[1][2]'
set ylabel 'W[3][4]'
set size ratio -1
set xrange [-29.8524:27.5292]
set yrange [-54.7734:2.60826]
set title 'l_{1.75}-AttGD, 1500 iterations'
plot 'path_p1.75.tsv' index 0 using 2:3 with lines lw 2 title 'W_k', '' index 1 using 2:3 with lines dt 2 lw 2 title 'W^{mm} ray'
set size ratio -1
set xrange [-17.9105:12.0769]
set yrange [-28.6243:1.36306]
set title 'l_{2}-AttGD, 2000 iterations'
plot 'path_p2.tsv' index 0 using 2:3 with lines lw 2 title 'W_k', '' index 1 using 2:3 with lines dt 2 lw 2 title 'W^{mm} ray'
set size ratio -1
set xrange [-11.403:3.74842]
set yrange [-14.4627:0.688701]
set title 'l_{3}-AttGD, 20000 iterations'
plot 'path_p3.tsv' index 0 using 2:3 with lines lw 2 title 'W_k', '' index 1 using 2:3 with lines dt 2 lw 2 title 'W^{mm} ray'
unset multiplot
unset output
}
