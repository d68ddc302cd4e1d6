# svm_selected_patches: data in the .tsv files beside this script; run `gnuplot svm_selected_patches.gp`.
set encoding utf8
do for [fmt in "svg png"] {
if (fmt eq "svg") {
  set terminal svg size 1080,360 dynamic font 'sans,11' background '#ffffff'
} else {
  set terminal pngcairo size 1080,360 font 'sans,10'
}
set output 'svm_selected_patches.'.fmt
set multiplot layout 2,8 title 'Patch selected by the trained attention on test images (box colour: p = 1.1 purple, p = 1.5 green, p = 2 light blue, p = 3 orange)'
unset key
unset xtics
unset ytics
unset colorbox
set size ratio 1
set xrange [-0.5:27.5]
set yrange [27.5:-0.5]
set palette grey
set title 'T-shirt/top' font ',8'
plot 'svm_images.tsv' index 0 matrix with image, 'svm_boxes.tsv' index 0 with lines lw 2 lc 1, 'svm_boxes.tsv' index 1 with lines lw 2 lc 2, 'svm_boxes.tsv' index 2 with lines lw 2 lc 3, 'svm_boxes.tsv' index 3 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 1 matrix with image, 'svm_boxes.tsv' index 4 with lines lw 2 lc 1, 'svm_boxes.tsv' index 5 with lines lw 2 lc 2, 'svm_boxes.tsv' index 6 with lines lw 2 lc 3, 'svm_boxes.tsv' index 7 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 2 matrix with image, 'svm_boxes.tsv' index 8 with lines lw 2 lc 1, 'svm_boxes.tsv' index 9 with lines lw 2 lc 2, 'svm_boxes.tsv' index 10 with lines lw 2 lc 3, 'svm_boxes.tsv' index 11 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 3 matrix with image, 'svm_boxes.tsv' index 12 with lines lw 2 lc 1, 'svm_boxes.tsv' index 13 with lines lw 2 lc 2, 'svm_boxes.tsv' index 14 with lines lw 2 lc 3, 'svm_boxes.tsv' index 15 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 4 matrix with image, 'svm_boxes.tsv' index 16 with lines lw 2 lc 1, 'svm_boxes.tsv' index 17 with lines lw 2 lc 2, 'svm_boxes.tsv' index 18 with lines lw 2 lc 3, 'svm_boxes.tsv' index 19 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 5 matrix with image, 'svm_boxes.tsv' index 20 with lines lw 2 lc 1, 'svm_boxes.tsv' index 21 with lines lw 2 lc 2, 'svm_boxes.tsv' index 22 with lines lw 2 lc 3, 'svm_boxes.tsv' index 23 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 6 matrix with image, 'svm_boxes.tsv' index 24 with lines lw 2 lc 1, 'svm_boxes.tsv' index 25 with lines lw 2 lc 2, 'svm_boxes.tsv' index 26 with lines lw 2 lc 3, 'svm_boxes.tsv' index 27 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 7 matrix with image, 'svm_boxes.tsv' index 28 with lines lw 2 lc 1, 'svm_boxes.tsv' index 29 with lines lw 2 lc 2, 'svm_boxes.tsv' index 30 with lines lw 2 lc 3, 'svm_boxes.tsv' index 31 with lines lw 2 lc 4
set title 'Shirt' font ',8'
plot 'svm_images.tsv' index 8 matrix with image, 'svm_boxes.tsv' index 32 with lines lw 2 lc 1, 'svm_boxes.tsv' index 33 with lines lw 2 lc 2, 'svm_boxes.tsv' index 34 with lines lw 2 lc 3, 'svm_boxes.tsv' index 35 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 9 matrix with image, 'svm_boxes.tsv' index 36 with lines lw 2 lc 1, 'svm_boxes.tsv' index 37 with lines lw 2 lc 2, 'svm_boxes.tsv' index 38 with lines lw 2 lc 3, 'svm_boxes.tsv' index 39 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 10 matrix with image, 'svm_boxes.tsv' index 40 with lines lw 2 lc 1, 'svm_boxes.tsv' index 41 with lines lw 2 lc 2, 'svm_boxes.tsv' index 42 with lines lw 2 lc 3, 'svm_boxes.tsv' index 43 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 11 matrix with image, 'svm_boxes.tsv' index 44 with lines lw 2 lc 1, 'svm_boxes.tsv' index 45 with lines lw 2 lc 2, 'svm_boxes.tsv' index 46 with lines lw 2 lc 3, 'svm_boxes.tsv' index 47 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 12 matrix with image, 'svm_boxes.tsv' index 48 with lines lw 2 lc 1, 'svm_boxes.tsv' index 49 with lines lw 2 lc 2, 'svm_boxes.tsv' index 50 with lines lw 2 lc 3, 'svm_boxes.tsv' index 51 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 13 matrix with image, 'svm_boxes.tsv' index 52 with lines lw 2 lc 1, 'svm_boxes.tsv' index 53 with lines lw 2 lc 2, 'svm_boxes.tsv' index 54 with lines lw 2 lc 3, 'svm_boxes.tsv' index 55 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 14 matrix with image, 'svm_boxes.tsv' index 56 with lines lw 2 lc 1, 'svm_boxes.tsv' index 57 with lines lw 2 lc 2, 'svm_boxes.tsv' index 58 with lines lw 2 lc 3, 'svm_boxes.tsv' index 59 with lines lw 2 lc 4
set title '' font ',8'
plot 'svm_images.tsv' index 15 matrix with image, 'svm_boxes.tsv' index 60 with lines lw 2 lc 1, 'svm_boxes.tsv' index 61 with lines lw 2 lc 2, 'svm_boxes.tsv' index 62 with lines lw 2 lc 3, 'svm_boxes.tsv' index 63 with lines lw 2 lc 4
unset multiplot
unset output
}
