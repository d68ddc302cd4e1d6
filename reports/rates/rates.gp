# rates: data in the .tsv files beside this script; run `gnuplot rates.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,800 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,800 font 'sans,10'
}
set output 'rates.'.fmt
set multiplot layout 2,3 title 'Directional Bregman divergence to the own-p SVM (geometric mean over seeds) and the chosen fit'
set logscale xy
set format y '10^{%L}'
set grid
set xlabel 'iteration k'
set ylabel 'D_ψ (geometric mean over seeds)'
set key bottom left
set title 'l_{1.75}-AttGD, normalized steps'
plot 'curves_normalized.tsv' index 0 using 1:2 with points pt 7 title 'measured', '' index 0 using 1:3 with lines lw 2 title 'fit: power a k^{-b}, b = 2.16'
set title 'l_{2}-AttGD, normalized steps'
plot 'curves_normalized.tsv' index 1 using 1:2 with points pt 7 title 'measured', '' index 1 using 1:3 with lines lw 2 title 'fit: power a k^{-b}, b = 2.07'
set title 'l_{3}-AttGD, normalized steps'
plot 'curves_normalized.tsv' index 2 using 1:2 with points pt 7 title 'measured', '' index 2 using 1:3 with lines lw 2 title 'fit: power a k^{-b}, b = 1.15'
set title 'l_{1.75}-AttGD, plain steps'
plot 'curves_plain.tsv' index 0 using 1:2 with points pt 7 title 'measured', '' index 0 using 1:3 with lines lw 2 title 'fit: logpower a (log k)^{-b}, b = 2.34'
set title 'l_{2}-AttGD, plain steps'
plot 'curves_plain.tsv' index 1 using 1:2 with points pt 7 title 'measured', '' index 1 using 1:3 with lines lw 2 title 'fit: logpower a (log k)^{-b}, b = 2.9'
set title 'l_{3}-AttGD, plain steps'
plot 'curves_plain.tsv' index 2 using 1:2 with points pt 7 title 'measured', '' index 2 using 1:3 with lines lw 2 title 'fit: power a k^{-b}, b = 0.419'
unset multiplot
unset output
}
