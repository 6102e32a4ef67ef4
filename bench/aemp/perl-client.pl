#!/usr/bin/env perl
# The Perl client of `npm run bench:aemp` (only run when AnyEvent::MP is installed): the same
# measurements as bench/aemp/run.ts makes for Courier, against the echo node ECHO_NODE (a seed at
# SEED): a warm-up, then PASSES times SECONDS s of sequential round trips `[reply, n]` and SECONDS s
# pipelined with WINDOW in flight, each echoed back. Prints `RESULT rtt X` and `RESULT pipelined Y`
# per pass (messages/s), then `DONE`.
#   perl bench/aemp/perl-client.pl SEED ECHO_NODE SECRET FRAMING SECONDS WINDOW PASSES
use strict;
use warnings;
use AnyEvent;
use AnyEvent::MP;
use Time::HiRes ();

my ($seed, $echo_node, $secret, $framing, $seconds, $window, $passes) = @ARGV;
configure norc => 1, nodeid => "bench-perl-client-$$", secret => $secret, binds => ["127.0.0.1:0"], seeds => [$seed],
   framing_format => [$framing];
my $echo = "$echo_node#echo";
my $now = \&Time::HiRes::time;

# Sequential round trips; the clock is read every 100, as run.ts does.
sub rtt {
   my ($secs) = @_;
   my $cv = AE::cv;
   my $n = 0;
   my $start = $now->();
   my $end = $start + $secs;
   my $port;
   $port = port {
      $n++;
      if ($n % 100 != 0 || $now->() < $end) {
         snd $echo, $port, $n;
      } else {
         $cv->send($n / ($now->() - $start));
      }
   };
   snd $echo, $port, $n;
   my $rate = $cv->recv;
   kil $port;
   $rate;
}

# WINDOW in flight; each answer sends the next until the time is up; the answers received by then count.
sub pipelined {
   my ($secs) = @_;
   my $cv = AE::cv;
   my ($sent, $got, $counted, $elapsed) = (0, 0);
   my $start = $now->();
   my $end = $start + $secs;
   my $port;
   $port = port {
      $got++;
      if (!defined $elapsed) {
         if ($now->() < $end) {
            snd $echo, $port, $sent++;
            return;
         }
         $elapsed = $now->() - $start;
         $counted = $got;
      }
      $cv->send if $got == $sent;
   };
   snd $echo, $port, $sent++ while $sent < $window;
   $cv->recv;
   kil $port;
   $counted / $elapsed;
}

$| = 1;
rtt(0.3);    # warm-up: the connection (found through the seed) and the code paths
for (1 .. $passes) {
   printf "RESULT rtt %.1f\n", rtt($seconds);
   printf "RESULT pipelined %.1f\n", pipelined($seconds);
}
print "DONE\n";
