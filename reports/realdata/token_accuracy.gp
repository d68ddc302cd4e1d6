# token_accuracy: data in the .tsv files beside this script; run `gnuplot token_accuracy.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 800,480 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 800,480 font 'sans,10'
}
set output 'token_accuracy.'.fmt
set grid
set key bottom right
set xlabel 'epoch'
set ylabel 'fraction of test sequences'
set yrange [0:1.02]
set title 'Top attention on the label-relevant item (mean ± std over seeds)'
plot 'token_accuracy.tsv' using 1:2:3 with yerrorlines lw 2 lc 1 title 'l1.1-MD', 'token_accuracy.tsv' using 1:4:5 with yerrorlines lw 2 lc 2 title 'GD (l2-MD)', 'token_accuracy.tsv' using 1:6:7 with yerrorlines lw 2 lc 3 title 'l3-MD', 'token_accuracy.tsv' using 1:8:9 with yerrorlines lw 2 lc 4 title 'Adam'

unset output
}
