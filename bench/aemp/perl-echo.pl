#!/usr/bin/env perl
# The Perl echo node of `npm run bench:aemp` (only run when AnyEvent::MP is installed): a seed node
# NODEID listening on BIND whose port NODEID#echo answers `[reply, @args]` with `@args`, as the
# Courier echo node (examples/echo-node) does. Prints `READY NODEID`.
#   perl bench/aemp/perl-echo.pl NODEID BIND SECRET FRAMING
use strict;
use warnings;
use AnyEvent;
use AnyEvent::MP;

my ($nodeid, $bind, $secret, $framing) = @ARGV;
configure norc => 1, nodeid => $nodeid, secret => $secret, binds => [$bind], seeds => [$bind], framing_format => [$framing];
rcv "$NODE#echo", sub {
   my ($reply, @args) = @_;
   snd $reply, @args;
};
$| = 1;
print "READY $nodeid\n";
AnyEvent->condvar->recv;
