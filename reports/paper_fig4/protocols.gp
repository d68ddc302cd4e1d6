# protocols: data in the .tsv files beside this script; run `gnuplot protocols.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1200,520 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1200,520 font 'sans,10'
}
set output 'protocols.'.fmt
set multiplot layout 1,3 title "l_{3}-AttGD, final D_ψ per seed. Circles: like-for-like (SVM at the run's own tokens, one W_0 for all p). Triangles: the authors' protocol (SVM at the tokens of a p_{svm} run from its own W_0).\nGreen: the p_{alg} and p_{svm} runs of the authors' protocol select the same tokens; red: they do not"
set logscale y
set format y '10^{%L}'
set grid
set xlabel 'seed'
set ylabel 'D_ψ'
set key below maxrows 2
set title 'to the l_{1.75}-AttSVM'
plot 'protocols.tsv' using 1:($4 == 1 ? $2 : NaN) with points pt 6 lc rgb '#1a9850' title 'like-for-like, agree', '' using 1:($4 == 0 ? $2 : NaN) with points pt 6 lc rgb '#d73027' title 'like-for-like, disagree', '' using 1:($4 == 1 ? $3 : NaN) with points pt 9 lc rgb '#1a9850' title 'authors'', agree', '' using 1:($4 == 0 ? $3 : NaN) with points pt 9 lc rgb '#d73027' title 'authors'', disagree'
set title 'to the l_{2}-AttSVM'
plot 'protocols.tsv' using 1:($7 == 1 ? $5 : NaN) with points pt 6 lc rgb '#1a9850' title 'like-for-like, agree', '' using 1:($7 == 0 ? $5 : NaN) with points pt 6 lc rgb '#d73027' title 'like-for-like, disagree', '' using 1:($7 == 1 ? $6 : NaN) with points pt 9 lc rgb '#1a9850' title 'authors'', agree', '' using 1:($7 == 0 ? $6 : NaN) with points pt 9 lc rgb '#d73027' title 'authors'', disagree'
set title 'to the l_{3}-AttSVM'
plot 'protocols.tsv' using 1:($10 == 1 ? $8 : NaN) with points pt 6 lc rgb '#1a9850' title 'like-for-like, agree', '' using 1:($10 == 0 ? $8 : NaN) with points pt 6 lc rgb '#d73027' title 'like-for-like, disagree', '' using 1:($10 == 1 ? $9 : NaN) with points pt 9 lc rgb '#1a9850' title 'authors'', agree', '' using 1:($10 == 0 ? $9 : NaN) with points pt 9 lc rgb '#d73027' title 'authors'', disagree'
unset multiplot
unset output
}
