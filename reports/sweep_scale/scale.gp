# scale: data in the .tsv files beside this script; run `gnuplot scale.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,420 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,420 font 'sans,10'
}
set output 'scale.'.fmt
set multiplot layout 1,3 title 'Final directional Bregman divergence (mean over 1000 seeds), l_{2}-AttGD, 2000 iterations'
set logscale x
set logscale y
set format y '10^{%L}'
set grid
set xlabel 'd'
set key top left
set title 'n = 6'
plot 'scale.tsv' index 0 using 3:4 with linespoints lw 2 pt 7 title 'T = 8', 'scale.tsv' index 1 using 3:4 with linespoints lw 2 pt 7 title 'T = 16', 'scale.tsv' index 2 using 3:4 with linespoints lw 2 pt 7 title 'T = 32'
set title 'n = 24'
plot 'scale.tsv' index 3 using 3:4 with linespoints lw 2 pt 7 title 'T = 8', 'scale.tsv' index 4 using 3:4 with linespoints lw 2 pt 7 title 'T = 16', 'scale.tsv' index 5 using 3:4 with linespoints lw 2 pt 7 title 'T = 32'
set title 'n = 96'
plot 'scale.tsv' index 6 using 3:4 with linespoints lw 2 pt 7 title 'T = 8', 'scale.tsv' index 7 using 3:4 with linespoints lw 2 pt 7 title 'T = 16', 'scale.tsv' index 8 using 3:4 with linespoints lw 2 pt 7 title 'T = 32'
unset multiplot
unset output
}
