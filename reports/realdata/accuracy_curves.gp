# accuracy_curves: data in the .tsv files beside this script; run `gnuplot accuracy_curves.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,420 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,420 font 'sans,10'
}
set output 'accuracy_curves.'.fmt
set multiplot layout 1,3 title 'Test accuracy per epoch (mean ± std over the seeds of 5 that had not diverged)'
set grid
set key bottom right
set xlabel 'epoch'
set ylabel 'test accuracy'
set title '10 classes'
plot 'curves_task0.tsv' using 1:2:3 with yerrorlines lw 2 lc 1 title 'l1.1-MD', 'curves_task0.tsv' using 1:4:5 with yerrorlines lw 2 lc 2 title 'GD (l2-MD)', 'curves_task0.tsv' using 1:6:7 with yerrorlines lw 2 lc 3 title 'l3-MD', 'curves_task0.tsv' using 1:8:9 with yerrorlines lw 2 lc 4 title 'Adam'
set title 'Shirt vs T-shirt/top'
plot 'curves_task1.tsv' using 1:2:3 with yerrorlines lw 2 lc 1 title 'l1.1-MD', 'curves_task1.tsv' using 1:4:5 with yerrorlines lw 2 lc 2 title 'GD (l2-MD)', 'curves_task1.tsv' using 1:6:7 with yerrorlines lw 2 lc 3 title 'l3-MD', 'curves_task1.tsv' using 1:8:9 with yerrorlines lw 2 lc 4 title 'Adam'
set title 'token selection (Pullover or Coat among distractors)'
plot 'curves_task2.tsv' using 1:2:3 with yerrorlines lw 2 lc 1 title 'l1.1-MD', 'curves_task2.tsv' using 1:4:5 with yerrorlines lw 2 lc 2 title 'GD (l2-MD)', 'curves_task2.tsv' using 1:6:7 with yerrorlines lw 2 lc 3 title 'l3-MD', 'curves_task2.tsv' using 1:8:9 with yerrorlines lw 2 lc 4 title 'Adam'
unset multiplot
unset output
}
