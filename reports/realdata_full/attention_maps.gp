# attention_maps: data in the .tsv files beside this script; run `gnuplot attention_maps.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1400,740 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1400,740 font 'sans,10'
}
set output 'attention_maps.'.fmt
set multiplot layout 4,10 title 'Mean attention per patch on the test images of each class (rows: optimizers; 10-class task)'
unset key
unset xtics
unset ytics
set yrange [6.5:-0.5]
set xrange [-0.5:6.5]
set size ratio 1
set palette rgb 33,13,10
unset colorbox
set cbrange [0:*]
set title 'l1.1-MD: T-shirt/top' font ',8'
plot 'attention_maps.tsv' index 0 matrix with image
set title 'Trouser' font ',8'
plot 'attention_maps.tsv' index 1 matrix with image
set title 'Pullover' font ',8'
plot 'attention_maps.tsv' index 2 matrix with image
set title 'Dress' font ',8'
plot 'attention_maps.tsv' index 3 matrix with image
set title 'Coat' font ',8'
plot 'attention_maps.tsv' index 4 matrix with image
set title 'Sandal' font ',8'
plot 'attention_maps.tsv' index 5 matrix with image
set title 'Shirt' font ',8'
plot 'attention_maps.tsv' index 6 matrix with image
set title 'Sneaker' font ',8'
plot 'attention_maps.tsv' index 7 matrix with image
set title 'Bag' font ',8'
plot 'attention_maps.tsv' index 8 matrix with image
set title 'Ankle boot' font ',8'
plot 'attention_maps.tsv' index 9 matrix with image
set title 'GD (l2-MD): T-shirt/top' font ',8'
plot 'attention_maps.tsv' index 10 matrix with image
set title 'Trouser' font ',8'
plot 'attention_maps.tsv' index 11 matrix with image
set title 'Pullover' font ',8'
plot 'attention_maps.tsv' index 12 matrix with image
set title 'Dress' font ',8'
plot 'attention_maps.tsv' index 13 matrix with image
set title 'Coat' font ',8'
plot 'attention_maps.tsv' index 14 matrix with image
set title 'Sandal' font ',8'
plot 'attention_maps.tsv' index 15 matrix with image
set title 'Shirt' font ',8'
plot 'attention_maps.tsv' index 16 matrix with image
set title 'Sneaker' font ',8'
plot 'attention_maps.tsv' index 17 matrix with image
set title 'Bag' font ',8'
plot 'attention_maps.tsv' index 18 matrix with image
set title 'Ankle boot' font ',8'
plot 'attention_maps.tsv' index 19 matrix with image
set title 'l3-MD: T-shirt/top' font ',8'
plot 'attention_maps.tsv' index 20 matrix with image
set title 'Trouser' font ',8'
plot 'attention_maps.tsv' index 21 matrix with image
set title 'Pullover' font ',8'
plot 'attention_maps.tsv' index 22 matrix with image
set title 'Dress' font ',8'
plot 'attention_maps.tsv' index 23 matrix with image
set title 'Coat' font ',8'
plot 'attention_maps.tsv' index 24 matrix with image
set title 'Sandal' font ',8'
plot 'attention_maps.tsv' index 25 matrix with image
set title 'Shirt' font ',8'
plot 'attention_maps.tsv' index 26 matrix with image
set title 'Sneaker' font ',8'
plot 'attention_maps.tsv' index 27 matrix with image
set title 'Bag' font ',8'
plot 'attention_maps.tsv' index 28 matrix with image
set title 'Ankle boot' font ',8'
plot 'attention_maps.tsv' index 29 matrix with image
set title 'Adam: T-shirt/top' font ',8'
plot 'attention_maps.tsv' index 30 matrix with image
set title 'Trouser' font ',8'
plot 'attention_maps.tsv' index 31 matrix with image
set title 'Pullover' font ',8'
plot 'attention_maps.tsv' index 32 matrix with image
set title 'Dress' font ',8'
plot 'attention_maps.tsv' index 33 matrix with image
set title 'Coat' font ',8'
plot 'attention_maps.tsv' index 34 matrix with image
set title 'Sandal' font ',8'
plot 'attention_maps.tsv' index 35 matrix with image
set title 'Shirt' font ',8'
plot 'attention_maps.tsv' index 36 matrix with image
set title 'Sneaker' font ',8'
plot 'attention_maps.tsv' index 37 matrix with image
set title 'Bag' font ',8'
plot 'attention_maps.tsv' index 38 matrix with image
set title 'Ankle boot' font ',8'
plot 'attention_maps.tsv' index 39 matrix with image
unset multiplot
unset output
}
