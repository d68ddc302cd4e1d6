# weights_hist: data in the .tsv files beside this script; run `gnuplot weights_hist.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1100,420 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1100,420 font 'sans,10'
}
set output 'weights_hist.'.fmt
set multiplot layout 1,2 title 'Entries of the trained weights, 10-class task, 10 seeds pooled (bins 0.5 wide; ends collect the tails)'
set grid
set key top left
set xlabel 'log10 |entry|'
set ylabel 'fraction'
set style data steps
set title '|W|'
plot 'weights_hist.tsv' using 1:2 lw 2 lc 1 title 'l1.1-MD', 'weights_hist.tsv' using 1:3 lw 2 lc 2 title 'GD (l2-MD)', 'weights_hist.tsv' using 1:4 lw 2 lc 3 title 'l3-MD', 'weights_hist.tsv' using 1:5 lw 2 lc 4 title 'Adam'
set title '|E|'
plot 'weights_hist.tsv' using 1:6 lw 2 lc 1 title 'l1.1-MD', 'weights_hist.tsv' using 1:7 lw 2 lc 2 title 'GD (l2-MD)', 'weights_hist.tsv' using 1:8 lw 2 lc 3 title 'l3-MD', 'weights_hist.tsv' using 1:9 lw 2 lc 4 title 'Adam'
unset multiplot
unset output
}
