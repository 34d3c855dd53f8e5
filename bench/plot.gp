# gnuplot script of bench/run: reads plot_<model>_<B>.dat (hsize refresh hand rebuild mv mvc noop)
# and plot_mem.dat from the current directory; bsizes is passed with -e.
set terminal pngcairo size 1000,650 font 'DejaVu Sans,11'
set logscale xy
set grid
set key outside right top
set xlabel 'history size (events)'
set ylabel 'median time (ms), log scale'
set format x '%.0s%c'
set xtics (50000, 100000, 200000, 1000000, 3000000, 10000000, 30000000)
do for [m in 'sessions users'] {
  set output sprintf('refresh_%s.png', m)
  set title sprintf('%s model: refresh of one new batch vs history size', m)
  plot for [i=1:words(bsizes)] sprintf('plot_%s_%s.dat', m, word(bsizes, i)) \
         using 1:2 with linespoints lw 2 pt 7 lc i title sprintf('incmodel refresh, B=%s', word(bsizes, i)), \
       for [i=1:words(bsizes)] sprintf('plot_%s_%s.dat', m, word(bsizes, i)) \
         using 1:3 with linespoints lw 1 dt 2 pt 6 lc i title sprintf('hand-written optimal, B=%s', word(bsizes, i)), \
       sprintf('plot_%s_%s.dat', m, word(bsizes, 1)) using 1:7 with linespoints lw 2 pt 4 lc rgb 'gray40' title 'no-op refresh', \
       (m eq 'sessions' ? sprintf('plot_%s_%s.dat', m, word(bsizes, 1)) : '/dev/null') using 1:4 with linespoints lw 2 pt 5 lc rgb 'red' title 'full rebuild (CTAS+index+swap)', \
       (m eq 'sessions' ? sprintf('plot_%s_%s.dat', m, word(bsizes, 1)) : '/dev/null') using 1:5 with linespoints lw 2 pt 9 lc rgb 'orange' title 'REFRESH MATERIALIZED VIEW', \
       (m eq 'sessions' ? sprintf('plot_%s_%s.dat', m, word(bsizes, 1)) : '/dev/null') using 1:6 with linespoints lw 2 pt 11 lc rgb 'purple' title 'REFRESH MV CONCURRENTLY'
}
set output 'refresh_memory.png'
set title 'peak private memory (RssAnon) of the backend running a refresh, B=10000'
set ylabel 'MB'
unset logscale y
set yrange [0:*]
plot 'plot_mem.dat' using 1:(strcol(2) eq 'sessions' ? $3 : NaN) with linespoints lw 2 pt 7 title 'sessions', \
     'plot_mem.dat' using 1:(strcol(2) eq 'users' ? $3 : NaN) with linespoints lw 2 pt 5 title 'users'
