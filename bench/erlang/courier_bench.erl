%% The Erlang half of `npm run bench`: the same measurements as bench/courier.ts, printed
%% as one JSON line `COURIER_BENCH {...}` for bench/erlang.ts to parse.
%% Run: erlc -o DIR courier_bench.erl && erl -noshell -pa DIR -eval 'courier_bench:main([SpawnN, MemN, PingN, ManyN, Senders, CallN, Backlog, StartChildN])'
%% The module is also the callback module of the echo gen_server (init(server)) and of the
%% simple_one_for_one supervisor (init(sup)) it measures; no -behaviour, as it is both.
-module(courier_bench).
-export([main/1]).
-export([init/1, handle_call/3, handle_cast/2, start_worker/0]).

-define(RUNS, 5).

main([SpawnN, MemN, PingN, ManyN, Senders, CallN, Backlog, StartChildN]) ->
    %% A warm-up pass at a tenth of the size, then the best of ?RUNS measured passes (as bench/courier.ts).
    Spawn = best(fun() -> spawn_rate(SpawnN) end, fun() -> spawn_rate(SpawnN div 10) end),
    {MemPerProc, OneProc} = in_proc(fun() -> idle_memory(MemN) end),
    Ping = best(fun() -> ping_pong(PingN) end, fun() -> ping_pong(PingN div 10) end),
    %% The idle processes are spawned once and stay through the warm-up and every pass (as bench/courier.ts).
    Beside = beside_idle(MemN, fun() -> best(fun() -> ping_pong(PingN) end, fun() -> ping_pong(PingN div 10) end) end),
    Many = best(fun() -> many_to_one(ManyN, Senders) end, fun() -> many_to_one(ManyN div 10, Senders) end),
    Call = best(fun() -> call_rate(CallN, 0) end, fun() -> call_rate(CallN div 10, 0) end),
    CallBacklog = best(fun() -> call_rate(CallN, Backlog) end, fun() -> call_rate(CallN div 10, Backlog) end),
    StartChild = best(fun() -> start_child_rate(StartChildN) end, fun() -> start_child_rate(StartChildN div 10) end),
    Fields = [{"otp_release", str(erlang:system_info(otp_release))},
              {"erts", str(erlang:system_info(version))},
              {"schedulers", erlang:system_info(schedulers_online)},
              {"spawn_per_s", Spawn},
              {"idle_bytes_per_proc", MemPerProc},
              {"process_info_memory", OneProc},
              {"ping_pong_rt_per_s", Ping},
              {"ping_pong_beside_idle_rt_per_s", Beside},
              {"many_to_one_msgs_per_s", Many},
              {"call_per_s", Call},
              {"call_backlog_per_s", CallBacklog},
              {"start_child_per_s", StartChild}],
    io:format("COURIER_BENCH {~s}~n", [lists:join(",", [field(K, V) || {K, V} <- Fields])]),
    halt(0).

field(K, {str, S}) -> io_lib:format("\"~s\":\"~s\"", [K, S]);
field(K, V) when is_integer(V) -> io_lib:format("\"~s\":~b", [K, V]);
field(K, V) when is_float(V) -> io_lib:format("\"~s\":~.3f", [K, V]).

str(S) -> {str, S}.

best(Measure, WarmUp) ->
    _ = in_proc(WarmUp),
    lists:max([in_proc(Measure) || _ <- lists:seq(1, ?RUNS)]).

%% Each pass runs in a fresh process whose message queue lives off the heap: a process that
%% collects 10^5..10^6 messages otherwise copies its whole queue at every garbage collection
%% (measured here: spawn + exit falls from ~600k/s to ~15k/s). Courier's mailbox is off-heap too.
in_proc(Fun) ->
    Parent = self(),
    {Pid, Mref} = spawn_opt(fun() -> Parent ! {self(), Fun()} end, [monitor, {message_queue_data, off_heap}]),
    receive
        {Pid, Result} -> erlang:demonitor(Mref, [flush]), Result;
        {'DOWN', Mref, process, Pid, Reason} -> error({bench_failed, Reason})
    end.

per_second(N, T0) ->
    N / ((erlang:monotonic_time(nanosecond) - T0) / 1.0e9).

%% spawn + exit: N processes that each tell the parent they ran, then end.
spawn_rate(N) ->
    Parent = self(),
    T0 = erlang:monotonic_time(nanosecond),
    spawn_n(N, Parent),
    await_n(N),
    per_second(N, T0).

spawn_n(0, _) -> ok;
spawn_n(N, Parent) -> spawn(fun() -> Parent ! done end), spawn_n(N - 1, Parent).

await_n(0) -> ok;
await_n(N) -> receive done -> await_n(N - 1) end.

%% Idle memory: N processes blocked in receive; erlang:memory(processes) delta, less the growth
%% of this process's own heap (it holds the pid list).
idle_memory(N) ->
    garbage_collect(),
    M0 = erlang:memory(processes),
    {memory, S0} = process_info(self(), memory),
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    garbage_collect(),
    M1 = erlang:memory(processes),
    {memory, S1} = process_info(self(), memory),
    {memory, One} = process_info(hd(Pids), memory),
    [P ! stop || P <- Pids],
    {((M1 - M0) - (S1 - S0)) / N, One}.

%% Local ping-pong: N round trips between this process and an echo process.
ping_pong(N) ->
    Pong = spawn(fun pong/0),
    T0 = erlang:monotonic_time(nanosecond),
    ping(N, Pong),
    R = per_second(N, T0),
    Pong ! stop,
    R.

ping(0, _) -> ok;
ping(N, Pong) -> Pong ! {ping, self()}, receive pong -> ping(N - 1, Pong) end.

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.

%% Run Fun while N other processes sit idle in receive.
beside_idle(N, Fun) ->
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    R = Fun(),
    [P ! stop || P <- Pids],
    R.

%% Many-to-one: Senders processes send N messages in all to one receiver.
many_to_one(N, Senders) ->
    Parent = self(),
    Per = N div Senders,
    Total = Per * Senders,
    Recv = spawn_opt(fun() -> drain(Total), Parent ! done end, [{message_queue_data, off_heap}]),
    T0 = erlang:monotonic_time(nanosecond),
    [spawn(fun() -> send_n(Recv, Per) end) || _ <- lists:seq(1, Senders)],
    receive done -> ok end,
    per_second(Total, T0).

send_n(_, 0) -> ok;
send_n(To, K) -> To ! {msg, K}, send_n(To, K - 1).

drain(0) -> ok;
drain(K) -> receive {msg, _} -> drain(K - 1) end.

%% gen_server:call round trips to an echo server; with Backlog, this process first queues that
%% many unrelated messages to itself (gen.erl's call then waits with a fresh reference: OTP's
%% receive-marker optimisation skips the backlog).
call_rate(N, Backlog) ->
    {ok, Server} = gen_server:start(?MODULE, server, []),
    fill(Backlog),
    T0 = erlang:monotonic_time(nanosecond),
    call_n(N, Server),
    R = per_second(N, T0),
    {message_queue_len, Backlog} = process_info(self(), message_queue_len),
    gen_server:stop(Server),
    R.

fill(0) -> ok;
fill(B) -> self() ! {junk, 0}, fill(B - 1).

call_n(0, _) -> ok;
call_n(N, Server) -> pong = gen_server:call(Server, ping), call_n(N - 1, Server).

%% supervisor:start_child on a simple_one_for_one supervisor: each child an idle process linked to it.
start_child_rate(N) ->
    {ok, Sup} = supervisor:start_link(?MODULE, sup),
    T0 = erlang:monotonic_time(nanosecond),
    start_children(N, Sup),
    R = per_second(N, T0),
    gen_server:stop(Sup),
    R.

start_children(0, _) -> ok;
start_children(N, Sup) -> {ok, _} = supervisor:start_child(Sup, []), start_children(N - 1, Sup).

start_worker() -> {ok, spawn_link(fun() -> receive stop -> ok end end)}.

init(server) ->
    {ok, 0};
init(sup) ->
    Worker = #{id => worker, start => {?MODULE, start_worker, []}, restart => temporary, shutdown => brutal_kill},
    {ok, {#{strategy => simple_one_for_one, intensity => 1, period => 5}, [Worker]}}.

handle_call(_Req, _From, S) -> {reply, pong, S}.

handle_cast(_Msg, S) -> {noreply, S}.
