%% Distribution benchmark peer and driver (the Erlang side of bench/dist/run.ts).
%% Peer: serve() registers bench_echo ({From, M} -> From ! M) and bench_sink
%% ({start, From, N} then N messages -> From ! {done, N}).
%% Driver: rtt/2 and tput/3 measure against {bench_echo|bench_sink, PeerNode}.
-module(dist_bench).
-export([serve/0, echo/0, sink/0, rtt/2, tput/3, flood/3, binary/1]).

serve() ->
    register(bench_echo, spawn(?MODULE, echo, [])),
    register(bench_sink, spawn(?MODULE, sink, [])),
    ok.

echo() ->
    receive {From, M} -> From ! M, echo() end.

sink() ->
    receive
        {start, From, N} -> count(N), From ! {done, N}, sink();
        _ -> sink()
    end.

count(0) -> ok;
count(N) -> receive _ -> count(N - 1) end.

%% N sequential round trips: {RoundTripsPerSec, P50us, P99us}.
rtt(Peer, N) ->
    Dest = {bench_echo, Peer},
    Dest ! {self(), warm}, receive warm -> ok end,
    T0 = erlang:monotonic_time(nanosecond),
    Lat = rtt_loop(Dest, N, []),
    T1 = erlang:monotonic_time(nanosecond),
    S = lists:sort(Lat),
    {N * 1.0e9 / (T1 - T0), pct(S, N, 0.50) / 1000, pct(S, N, 0.99) / 1000}.

rtt_loop(_, 0, Acc) -> Acc;
rtt_loop(Dest, N, Acc) ->
    T = erlang:monotonic_time(nanosecond),
    Dest ! {self(), N},
    receive N -> ok end,
    rtt_loop(Dest, N - 1, [erlang:monotonic_time(nanosecond) - T | Acc]).

pct(Sorted, N, P) -> lists:nth(max(1, min(N, round(N * P))), Sorted).

%% N one-way messages of Msg to the peer's sink, acknowledged at the end: {MsgsPerSec, BytesPerSec}.
tput(Peer, N, Msg) ->
    Dest = {bench_sink, Peer},
    T0 = erlang:monotonic_time(nanosecond),
    Dest ! {start, self(), N},
    send_n(Dest, N, Msg),
    receive {done, N} -> ok end,
    T1 = erlang:monotonic_time(nanosecond),
    Secs = (T1 - T0) / 1.0e9,
    %% The term's size without the version byte, as bench/dist/ops.ts counts it.
    {N / Secs, N * (byte_size(term_to_binary(Msg)) - 1) / Secs}.

send_n(_, 0, _) -> ok;
send_n(Dest, N, Msg) -> Dest ! Msg, send_n(Dest, N - 1, Msg).

binary(Size) -> binary:copy(<<0>>, Size).

%% The flood row: N binaries of Size bytes to the peer's sink (stopped meanwhile by the runner;
%% this process is suspended by busy_dist_port), returning once the sink acknowledged all.
flood(Peer, N, Size) ->
    Dest = {bench_sink, Peer},
    Dest ! {start, self(), N},
    send_n(Dest, N, binary(Size)),
    receive {done, N} -> ok end.
