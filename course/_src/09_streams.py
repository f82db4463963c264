# %% [markdown]
# # 09 · Streams that outlive the request: model tokens over SSE, rooms over WebSockets
#
# A chat service asks a model for an answer and relays its tokens to the browser as
# **Server-Sent Events** (SSE), one event per token, for seconds per request; a
# notification feed keeps a stream open for minutes with nothing to say. Every request
# of notebooks 01-08 ended in well under a second. These do not, and three failures
# recur in real projects:
#
# 1. a sync client or SDK read inside the stream blocks every other user (the loop);
# 2. a sync generator holds a worker thread for each open stream, so 40 listeners starve
#    every `def` endpoint;
# 3. when the browser goes away, the service keeps reading the model's stream to the
#    end, paying for tokens nobody receives;
# 4. a WebSocket room sends each message to every member in turn, and one member that
#    stops reading (a laptop asleep, a phone in a tunnel) freezes the whole room.
#
# This notebook measures one process holding hundreds of idle streams (memory per
# stream, `/health` meanwhile), the thread each sync stream holds, the tokens wasted
# after a disconnect with four ways of writing the relay, keep-alive comments and
# proxies, and how the installed Starlette notices that a client has gone. Then your
# turn, graded by the `token-stream` exercise's own checks. Then WebSockets: what a
# send waits for in the installed uvicorn, asyncio and `websockets`, one stalled reader
# and everyone's latency, what the keepalive does and does not free, memory per idle
# connection, and what a bounded queue costs and saves; your turn again, graded by the
# `ws-broadcast` exercise's checks.
#
# Reading: about 30 minutes. Running: about 50 seconds.

# %%
# %matplotlib inline
import asyncio.selector_events
import asyncio.transports
import inspect
import sys
from pathlib import Path

import fastapi
import fastapi.routing
import fastapi.sse
import starlette
import starlette.middleware.gzip
import starlette.responses
import uvicorn
import uvicorn.protocols.http.h11_impl as h11_impl
import uvicorn.protocols.websockets.websockets_sansio_impl as ws_impl
import websockets
import websockets.asyncio.connection
import websockets.protocol
from _lesson import LeakCheck, show_function
from _pictures import listeners_figure, relays_figure, rooms_figure
from _practice import REFERENCE, Tolerance, score
from _sockets import idle_members, room
from _streams import hold_listeners, news, noticed, on_the_wire, relays, relays_table, warm_up
from _turns import TURNS
from _widgets import run_in_fresh_loop
from IPython.display import Code, Markdown, display

from autograder import lab
from autograder.harness.app import ws_options

leaks = LeakCheck()  # the last cell checks that nothing started here is left running
LISTENERS = "apps/nb09_listeners.py"
RELAYS = "apps/nb09_relays.py"
ROOMS = "apps/nb09_rooms.py"
ASYNC_STEPS = [100, 200, 300]  # idle async listeners, opened in three steps
SYNC_LISTENERS = 50  # more than the 40 worker threads
print(f"FastAPI {fastapi.__version__}, Starlette {starlette.__version__}, uvicorn {uvicorn.__version__}, "
      f"websockets {websockets.__version__}")


def source_line(obj: object, text: str) -> str:
    """``file:line`` of the first line of ``obj``'s source holding ``text``, and the line."""
    lines, first = inspect.getsourcelines(obj)
    n = next(i for i, line in enumerate(lines) if text in line)
    path = Path(inspect.getsourcefile(obj) or "?")
    module = inspect.getmodule(obj)
    top = sys.modules[module.__name__.split(".")[0]] if module else None  # path from the package's folder
    shown = path.relative_to(Path(top.__file__).parent.parent) if top and top.__file__ else path.name
    return f"{shown}:{first + n}: {lines[n].strip()}"


# %% [markdown]
# ## 1. What `EventSourceResponse` does, in the installed FastAPI
#
# FastAPI ships its own SSE response: `response_class=EventSourceResponse` on a path
# operation that `yield`s; each item becomes an event (a dict is JSON-encoded as its
# `data`, a `ServerSentEvent` sets `event`, `id`, `retry`, `comment`). The class itself
# is only a marker; the work is in `fastapi/routing.py`. The lines that matter, read from
# the installed source:

# %%
handler = fastapi.routing.get_request_handler
for text in ("sse_aiter: AsyncIterator[Any] = gen.__aiter__()", "sse_aiter = iterate_in_threadpool(gen)",
             "max_buffer_size=1", "tg.start_soon(_producer)", "tg.start_soon(_keepalive_inserter)",
             "with anyio.fail_after(_PING_INTERVAL)", "await send_keepalive.send(KEEPALIVE_COMMENT)",
             'response.headers["Cache-Control"] = "no-cache"', 'response.headers["X-Accel-Buffering"] = "no"'):
    print(source_line(handler, text))
print(f"fastapi.sse: _PING_INTERVAL = {fastapi.sse._PING_INTERVAL} s, KEEPALIVE_COMMENT = {fastapi.sse.KEEPALIVE_COMMENT!r}")
assert fastapi.sse._PING_INTERVAL == 15.0 and fastapi.sse.KEEPALIVE_COMMENT == b": ping\n\n"
assert issubclass(fastapi.sse.EventSourceResponse, starlette.responses.StreamingResponse)

# %% [markdown]
# So, exactly, for each SSE request:
#
# - an `async def` generator is iterated as it is, on the event loop; a plain `def`
#   generator through Starlette's `iterate_in_threadpool`: **each `next()` runs in a
#   worker thread, with one of the 40 tokens** (notebook 07, section 1);
# - a **producer task** pulls items from your generator and hands each, encoded, to a
#   memory stream of **one slot**; a **keep-alive task** forwards them to the response
#   and, after 15 s without an item, sends the comment `: ping` instead (browsers ignore
#   comments; proxies see bytes and keep the connection);
# - the response carries `Cache-Control: no-cache` and `X-Accel-Buffering: no` (nginx's
#   switch to pass the stream through instead of buffering it).
#
# Two tasks per stream, a memory stream, your generator's frame: what does one idle
# listener cost?
#
# ## 2. Hundreds of idle listeners in one process
#
# `apps/nb09_listeners.py` is a feed: each listener gets one event (`{"open": true}`),
# then the generator waits for news. Two versions of the same feed:

# %%
show_function(Path(LISTENERS), "feed_async")
show_function(Path(LISTENERS), "feed_sync")

# %% [markdown]
# The experiment (`_streams.hold_listeners`): open idle `async` listeners in three steps
# (100, 200, 300), each one a real connection that got its first event; read the app
# process's memory (RSS) after each step; probe `GET /health` (a `def` endpoint) every
# 20 ms for 0.6 s with none open and with all 300; then every listener leaves (closes its
# connection), `/health` is probed again, and the app's count of open generators is read
# until it is 0. Then the same with 50 **sync** listeners.
#
# **Predict first.** How many kilobytes of memory does one idle `async` listener cost
# the process? And with 50 sync listeners open, how many of the 30 `/health` probes are
# answered within their 0.6 s window?

# %%
predicted_kb_per_stream = None  # your figure: KB of RSS per idle async SSE stream
predicted_health_answered = None  # your figure: of 30 /health probes, answered, 50 sync listeners

# %%
n_async = ASYNC_STEPS[-1]
with lab.serve(LISTENERS) as app:
    warm_up(app)  # 20 listeners opened and closed first: first-use allocations are not a stream's cost
    idle = {"async": hold_listeners(app, "async", ASYNC_STEPS)}
    idle["sync"] = hold_listeners(app, "sync", [SYNC_LISTENERS])
    news(app)  # the news comes: every sync generator's blocking wait returns, its thread too
    quiet = on_the_wire(app, "/quiet")  # for section 4
for kind, run in idle.items():
    last = run["trace"][-1]
    n = last["streams"]
    print(f"{kind:5}: {n} listeners, {last['opened']} got their first event; RSS "
          f"{run['trace'][0]['rss'] / 2**20:.1f} -> {last['rss'] / 2**20:.1f} MB; threads in the process "
          f"{run['trace'][0]['threads']} -> {last['threads_after_probe']}; /health p95 {run['health'][0]['p95_ms']} ms "
          f"-> {run['health'][n]['p95_ms']} ms ({run['health'][n]['answered']}/{run['health'][n]['probes']} answered)")
    print(f"       inside the app: {run['inside']}; after they left: {run['after_leaving']}, "
          f"all gone within {run['all_gone_within_s']} s")
a, s = idle["async"], idle["sync"]
print(f"memory per idle async listener: {a['kb_per_stream']} KB (slope from {ASYNC_STEPS[0]} to {ASYNC_STEPS[-1]})")
fds_per_stream = (a["trace"][-1]["fds"] - a["trace"][0]["fds"]) / n_async
per_gib = int(2**20 / a["kb_per_stream"])
print(f"file descriptors: {a['trace'][0]['fds']} -> {a['trace'][-1]['fds']} ({fds_per_stream:.2f} per stream); "
      f"the app may open {a['fd_limit']} (its RLIMIT_NOFILE)")
print(f"listeners per worker, idle: {per_gib} per GiB of memory; {a['fd_limit'] - a['trace'][0]['fds']} "
      "more by its file descriptor limit")
score("KB per idle async stream", predicted_kb_per_stream, a["kb_per_stream"],
      tolerance=Tolerance(relative=0.5), unit="KB")
score("/health probes answered, 50 sync listeners", predicted_health_answered,
      s["health"][SYNC_LISTENERS]["answered"], tolerance=Tolerance(absolute=3), unit="probes")

# %%
display(listeners_figure(idle))

# %%
assert a["trace"][-1]["opened"] == n_async and a["inside"]["async"] == n_async
assert 5 < a["kb_per_stream"] < 200, a["kb_per_stream"]  # tens of KB, not megabytes
assert a["threads_added"] == 0 and a["trace"][-1]["threads_after_probe"] == a["trace"][0]["threads"]  # no thread
assert a["health"][n_async]["answered"] == a["health"][n_async]["probes"]
assert a["health"][n_async]["p95_ms"] < 100, a["health"]  # /health served beside 300 listeners
assert a["all_gone_within_s"] is not None and a["after_leaving"]["async"] == 0  # every generator ended
# sync: 40 generators in their blocking wait, one worker thread each; /health gets none
assert s["inside"]["sync_waiting"] == 40, s["inside"]
assert s["trace"][-1]["threads_after_probe"] >= 40, s["trace"]  # 40 worker threads (and the harness's)
assert s["health"][SYNC_LISTENERS]["answered"] == 0, s["health"]
# and when the clients left, the 40 threads stayed in their wait: a thread cannot be told
assert s["after_leaving"]["sync_waiting"] == 40 and s["all_gone_within_s"] is None, s["after_leaving"]
assert s["health_after_leaving"]["answered"] == 0
assert a["spec_version"] == "2.3"  # what uvicorn's h11 protocol gives the app: section 5
assert fds_per_stream == 1.0 and per_gib > 10_000  # one socket each; thousands per worker

# %% [markdown]
# Read it:
#
# - **An idle async listener costs memory, not a thread**: tens of kilobytes each (the
#   connection's buffers and h11 state, the request's task, FastAPI's producer and
#   keep-alive tasks, the memory streams, the generator's frame). 300 of them added no
#   thread, and `/health` answered beside them, slower at the 95th percentile but in
#   milliseconds. **How many listeners per worker?** Memory says over ten thousand per
#   GiB (the figure above). Each stream also holds one **file descriptor** (its socket),
#   and a process may open only `ulimit -n` of them: the number printed above here, 1024
#   on many a default machine, where it is the limit met first (raise it where you
#   deploy). Past that come the keep-alive pings (one write per idle stream every 15 s:
#   10 000 streams are ~670 writes a second) and what each stream does when news comes
#   (a broadcast to 10 000 listeners is 10 000 sends at once). Measure those for your
#   service; the idle cost is the small part.
# - **A sync listener holds a worker thread for as long as it waits**: 40 generators
#   sat in their blocking wait, each in one of the 40 threads of AnyIO's default limiter;
#   the other 10 listeners got their first event and then queued for a thread, and
#   `GET /health`, a `def` endpoint, queued behind them: **not one probe was answered**.
# - **Leaving does not free the thread.** When every listener had closed its connection,
#   the 40 threads were still in `news.wait()`: nothing can interrupt a blocking call in
#   a thread (notebook 07, section 3), so the disconnect reaches the generator only when
#   its `next()` returns. The async generators had all ended by then.
#
# ## 3. Tokens nobody receives: four ways to write the relay
#
# The model API (the course's, the one the `token-stream` grader uses) thinks 0.5 s,
# then writes a token every 25 ms, and records when each token was written and when its
# caller closed the connection. **It stops only when its caller hangs up**: a model
# provider bills the tokens it generated, read or not. `apps/nb09_relays.py` relays it
# four ways; each generator notes, in its `finally`, what ended it and when:

# %%
show_function(Path(RELAYS), "relay_eventsource")
show_function(Path(RELAYS), "relay_sync")
show_function(Path(RELAYS), "relay_task")

# %% [markdown]
# (`/relay/streaming` is `relay_eventsource`'s generator framed by hand, `line + "\n\n"`,
# in a `StreamingResponse`.) The experiment (`_streams.relays`): four clients per relay,
# all 16 at once, each asking a long answer (80 tokens, 2.5 s) and closing its connection
# after 5 tokens, as a closed browser tab does. Then the model's records: how many tokens
# it wrote after each client left.
#
# **Predict:** with the `def` generator (a sync `httpx.Client` under
# `EventSourceResponse`), how many tokens does the model write, per client, after that
# client left?

# %%
predicted_sync_wasted = None  # your figure: tokens written after the client left, def generator

# %%
STYLES = {"eventsource": "async def + EventSourceResponse", "streaming": "async def + StreamingResponse",
          "sync": "def generator + EventSourceResponse", "task": "a reader task + a queue"}
with lab.serve(RELAYS) as app:
    wasted = relays(app, list(STYLES))
display(Markdown(relays_table(wasted, STYLES)))
score("tokens wasted per client, def generator", predicted_sync_wasted, wasted["sync"]["wasted_max"],
      tolerance=Tolerance(absolute=5), unit="tokens")

# %%
display(relays_figure(wasted, STYLES))

# %%
for style, r in wasted.items():
    assert r["left"] == len(r["rows"]) == 4, (style, r)  # every client left after 5 tokens
for style in ("eventsource", "streaming"):  # cancelled at the await, the model's stream closed with it
    r = wasted[style]
    assert r["ended_by"] == {"CancelledError": 4} and r["read_to_the_end"] == 0, r
    assert max(r["closed_after_ms"]) < 200 and r["wasted_max"] <= 8, r
# the reader task: the generator was cancelled, the task nobody cancels read all 80 tokens
assert wasted["task"]["ended_by"] == {"CancelledError": 4} and wasted["task"]["read_to_the_end"] == 4
assert wasted["task"]["wasted_max"] == 75, wasted["task"]
# the def generator: not ended at all when the model finished; its connection stayed open
assert wasted["sync"]["ended_by"] == {None: 4} and wasted["sync"]["wasted_max"] >= 40, wasted["sync"]

# %% [markdown]
# Read it:
#
# - **`async def` generators** (both responses) were ended by a `CancelledError` raised
#   at their `await` (waiting for the model's next token) a few milliseconds after the
#   client left; leaving `async with client.stream(...)` closed the model's connection,
#   and the model stopped. Nothing wasted here.
# - **A reader task** (`asyncio.create_task(read_model(...))`) is nobody's child: the
#   request's cancellation ends the generator relaying the queue, not the task filling
#   it, which reads the answer to its end: **75 tokens paid for nobody** per client.
#   Cancel it in the generator's `finally` (`reader.cancel()`), or run it in a task
#   group the generator owns.
# - **The `def` generator** is iterated by `iterate_in_threadpool`: when the client left,
#   FastAPI cancelled its producer task, which was waiting for a `next()` running in a
#   worker thread. A thread cannot be cancelled: it finished that `next()`, and then
#   nothing asked the generator for another token, nor closed it. It stayed **suspended
#   at its `yield`** (its `finally` had not run when we looked), its `with
#   client.stream(...)` still open: nobody read the model's connection and nobody closed
#   it, so the model wrote its whole answer into the socket.
#   Python closes such a generator when it is collected, whenever that is. The same
#   delay bites an `async def` generator under `EventSourceResponse` when the producer
#   is cancelled while handing a token over (outside your generator; the exercise's
#   contract measured it once in nine runs, 350 ms late).
#
# ## 4. Keep-alive comments and proxies
#
# Between the model's last thought and its first token nothing is sent; on a feed,
# minutes may pass. A proxy or load balancer that sees no bytes for its idle timeout
# closes the connection (nginx's `proxy_read_timeout`, AWS ALB's idle timeout: 60 s by
# default). FastAPI's keep-alive task sends `: ping` after 15 s of silence. The
# listeners app shortens that interval to 0.2 s (the private
# `fastapi.routing._PING_INTERVAL`, for this demonstration only) and `GET /quiet` waits
# 1 s before its one event. Read raw, as it crossed the wire (section 2's server):

# %%
print(quiet["head"].strip())
for t, chunk in quiet["chunks"]:
    print(f"{t * 1000:6.0f} ms  {chunk!r}")
assert "x-accel-buffering: no" in quiet["head"] and "cache-control: no-cache" in quiet["head"]
assert "content-type: text/event-stream" in quiet["head"]
assert 3 <= len(quiet["pings"]) <= 5, quiet["pings"]  # one per 0.2 s of the 1 s silence
assert len(quiet["events"]) == 1 and quiet["events"][0][0] >= 1.0
assert "text/event-stream" in starlette.middleware.gzip.DEFAULT_EXCLUDED_CONTENT_TYPES  # section's claim below

# %% [markdown]
# Four comments, one per 0.2 s of silence, then the event. What a proxy in front does
# with them:
#
# - **Buffering.** nginx buffers a proxied response by default (`proxy_buffering on`): it
#   would hold the tokens until its buffer fills and the user would see the answer in
#   lumps. `X-Accel-Buffering: no`, which FastAPI sets, turns buffering off for this
#   response; other proxies need their own switch. Compression buffers too: the
#   installed Starlette's `GZipMiddleware` leaves `text/event-stream` alone (asserted
#   above); a proxy's gzip may not.
# - **Idle timeouts.** The 15 s ping is under the common 60 s defaults. A stream that
#   must survive a shorter timeout yields its own `ServerSentEvent(comment=...)` on a
#   timer of your choosing; never patch the private interval in production.
# - **Reconnects.** A browser's `EventSource` reconnects on its own after a dropped
#   stream, sending the last `id:` it saw as `Last-Event-ID`: give events an `id` if a
#   resumed stream must not repeat or skip them.
#
# ## 5. How Starlette notices a disconnect, in the installed version
#
# The relays above were cancelled milliseconds after their clients left, while they were
# *waiting for the model*: nothing was being sent to the client at that moment. So what
# noticed? `StreamingResponse.__call__` in the installed Starlette:

# %%
call = starlette.responses.StreamingResponse.__call__
for text in ('spec_version = tuple(map(int, scope.get("asgi", {}).get("spec_version", "2.0")',
             "if spec_version >= (2, 4):", "except OSError:", "raise ClientDisconnect()",
             "task_group.start_soon(wrap, partial(self.stream_response, send))",
             "await wrap(partial(self.listen_for_disconnect, receive))"):
    print(source_line(call, text))
print(source_line(starlette.responses.StreamingResponse.listen_for_disconnect, 'if message["type"] == "http.disconnect"'))
print(source_line(h11_impl.H11Protocol.handle_events, '"spec_version"'))
print(source_line(h11_impl.RequestResponseCycle.send, "if self.disconnected:"))
print(source_line(h11_impl.RequestResponseCycle.receive, "if self.disconnected or self.response_complete:"))
assert '"spec_version": "2.3"' in inspect.getsource(h11_impl.H11Protocol.handle_events)
assert "if spec_version >= (2, 4):" in inspect.getsource(call)

# %% [markdown]
# Two ways, chosen by the ASGI spec version the server declares:
#
# - **ASGI ≥ 2.4** (a server that promises to raise `OSError` when a send goes to a closed
#   connection): Starlette only sends, and notices a disconnect **when a send fails**.
#   A stream that is waiting sends nothing, so it notices at its next token or keep-alive.
# - **Below 2.4**: Starlette runs a **listener task** beside the sender, awaiting
#   `receive()` until it returns `http.disconnect`, then cancels the sender's scope: the
#   generator gets `CancelledError` at whatever it is awaiting, at once.
#
# Both paths, live, on the installed `StreamingResponse`, driven as a server drives it
# (`_streams.noticed`): a generator that waits 0.5 s for each token, a client that leaves
# at 0.1 s, and a server that keeps its spec's promise: `receive()` returns
# `http.disconnect` once the client has left, and a send after that raises `OSError`
# when the server declares 2.4 (returns silently below, as uvicorn's does):

# %%
paths = {v: run_in_fresh_loop(lambda v=v: noticed(v, leave_at=0.1, token_every=0.5)) for v in ("2.3", "2.4")}
for v, p in paths.items():
    print(f"ASGI {v}: the response returned {p['response_returned_after_s']} s in, raising {p['raised']}; "
          f"the generator ended by {p['generator_ended_by']} at {p['generator_ended_after_s']} s; "
          f"receive() gave {p['received']}")
assert paths["2.3"]["generator_ended_by"] == "CancelledError" and paths["2.3"]["generator_ended_after_s"] < 0.2
assert paths["2.4"]["raised"] == "ClientDisconnect" and paths["2.4"]["response_returned_after_s"] >= 0.5
assert paths["2.4"]["received"] == [] and paths["2.4"]["generator_ended_by"] is None

# %% [markdown]
# Below 2.4 the listener heard the disconnect at 0.1 s and the generator was cancelled
# at its `await`, at once. At 2.4 nobody called `receive()`: the generator went on
# waiting for its token, and only its first send after the client left (0.5 s) failed;
# Starlette turned the `OSError` into `ClientDisconnect`, and the generator was not even
# closed then (it waits for Python to finalise it).
#
# uvicorn 0.54's h11 (and httptools) protocol declares **2.3**, so in this course's
# servers the listener task does it: uvicorn sees the connection close, `receive()`
# returns `http.disconnect`, and Starlette cancels the stream. uvicorn's `send()` after
# a disconnect returns silently, without an error (the line above): with this server a
# failed send would never come. The live proof, from this notebook's own runs:

# %%
print(f"the scope's asgi spec_version, read inside the app: {idle['async']['spec_version']}")
for style in ("eventsource", "streaming"):
    after = wasted[style]["generator_ended_after_ms"]
    print(f"{STYLES[style]:32} generator cancelled {min(after)}-{max(after)} ms after its client left, "
          f"while it awaited the model (no token to send)")
print(f"{n_async} idle async listeners, nothing sent after their first event: all ended within "
      f"{idle['async']['all_gone_within_s']} s of leaving")
assert max(wasted["streaming"]["generator_ended_after_ms"]) < 100
assert idle["async"]["all_gone_within_s"] < 0.6

# %% [markdown]
# The generators were cancelled while nothing was being written, and 300 silent
# listeners were all cleaned up within a fraction of a second: only a listener on
# `receive()` can do that. Behind a server that declares ASGI 2.4 (check yours: print
# `request.scope["asgi"]`), a silent stream learns of its client's departure only at
# its next write, up to a keep-alive interval later; for a relay, one token later.
#
# Either way, a disconnect reaches your code only at an `await` (as `CancelledError`) or
# at a `yield` (as `GeneratorExit`, when the generator is closed): a blocking call in a
# thread, and a task nobody cancels, never hear of it. Hence the rules:
#
# - **an `async def` generator that only awaits** (an async client, `async with` around
#   the upstream stream, so that cancelling it closes the upstream connection);
# - **no reader task without an owner**: anything the generator starts, it cancels in
#   its `finally`, or a task group it owns does;
# - **a sync SDK** with no async twin: each `next()` in a thread of a `CapacityLimiter`
#   of its own (not the 40 tokens `/health` needs), from an `async def` generator whose
#   `finally` closes the sync iterator (`solutions/token-stream/sync_client_own_threads.py`).

# %% [markdown]
# ## 6. Your turn: a relay that blocks, starves and keeps paying
#
# The `token-stream` exercise's starter reads the model with a sync `httpx.Client`
# inside an `async def` generator. The cell below copies it to `mine/09-relay.py` (once:
# your edits are kept). Fix it there, save, and run the check: the exercise's own
# scenario (60 conversations at once, 20 of which leave after 5 tokens) and checks: first
# token p95 under 1 s, every token in order, the loop, `/health` and the worker threads
# free, each abandoned model stream closed within a second.

# %%
relay = TURNS["09-relay"]
display(Code(filename=relay.start(), language="python"))

# %%
verdict = relay.check()  # grades mine/09-relay.py with the token-stream checks; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert verdict.passed, verdict.render()

# %% [markdown]
# Stuck? Run `relay.show_answer()` in a new cell to see one answer.
#
# ## 7. WebSockets: a room, and a member that stops reading
#
# A chat room or a live dashboard holds one **WebSocket** per member and, for each
# message, sends it to every member. An SSE stream had one reader per generator; a
# broadcast is one publish and N sends, and a single member that stops reading (a laptop
# asleep, a phone in a tunnel, its tab still open) is one of the N. `apps/nb09_rooms.py`
# serves the same room three ways; the publish, with the first way, the exercise
# starter's (`inline`), awaiting each member's send in turn:

# %%
show_function(Path(ROOMS), "publish")

# %% [markdown]
# What does `await ws.send_text(...)` wait for? It reaches uvicorn, here with the
# `websockets` package's sans-I/O protocol (what uvicorn's `ws="auto"` picks when the
# package is installed), over asyncio's socket transport. The lines that decide it, read
# from the installed source:

# %%
WS = ws_impl.WebSocketsSansIOProtocol
print(f"websockets {websockets.__version__}, uvicorn {uvicorn.__version__}, the grader's keepalive: {ws_options()}")
for obj, text in (
    (WS.send, "await self.writable.wait()"),                       # every send waits for this flag
    (WS.pause_writing, "self.writable.clear()"),                   # asyncio: the buffer is over its high-water mark
    (WS.resume_writing, "self.writable.set()"),                    # asyncio: it drained below the low-water mark
    (asyncio.transports._FlowControlMixin._set_write_buffer_limits, "high = 64 * 1024"),
    (asyncio.transports._FlowControlMixin._set_write_buffer_limits, "low = high // 4"),
    (WS.send_keepalive_ping, "self.conn.send_ping(self.pending_ping_payload)"),
    (WS.send_keepalive_ping, "self.pong_timer = self.loop.call_later(self.ping_timeout, self.keepalive_timeout)"),
    (WS.keepalive_timeout, 'self.conn.fail(1011, "keepalive ping timeout")'),
    (WS.keepalive_timeout, "self.transport.close()"),
    (asyncio.selector_events._SelectorTransport.close, "if not self._buffer:"),  # closes now only if empty
    (asyncio.selector_events._SelectorSocketTransport._write_ready, "if self._closing:"),  # else once drained
    (WS.connection_lost, "self.writable.set()"),                   # and only then is a waiting send() freed
    (websockets.protocol.Protocol.data_to_send, "writes, self.writes = self.writes, []"),
    (websockets.asyncio.connection.Connection.__init__, "write_limit: int | tuple[int, int | None] = 2**15"),
):
    print(source_line(obj, text))
assert "set_write_buffer_limits" not in inspect.getsource(ws_impl)  # asyncio's defaults: 64 KiB high, 16 KiB low
assert "write_limit" not in inspect.getsource(ws_impl) and "max_queue" not in inspect.getsource(ws_impl)
assert "ServerProtocol(" in inspect.getsource(WS.__init__)  # websockets' sans-I/O protocol, not its Connection

# %% [markdown]
# So, exactly, in the installed versions:
#
# - **`send()` waits on one flag, `writable`.** asyncio's transport clears it (through
#   `pause_writing`) when the bytes it holds for that socket pass **64 KiB**, and sets it
#   again when they drain to 16 KiB. Nothing else bounds the wait: no deadline, no
#   timeout. A member that reads nothing lets the kernel's buffers fill, then asyncio's,
#   and the next `send()` to it waits until it reads again.
# - **The library's own write limit is not in this path.** `websockets` gives its own
#   asyncio `Connection` a `write_limit` (32 KiB); uvicorn uses only its sans-I/O
#   `ServerProtocol`, whose `data_to_send()` hands every frame over at once, and sets no
#   buffer limits of its own: asyncio's 64 KiB is the limit.
# - **The keepalive** (here: ping every 1 s, give up after 4 s without the pong) writes
#   its ping behind the data already buffered, so a stalled member never sees it. At the
#   timeout it writes a close frame (1011) and calls `transport.close()`; but a selector
#   transport with bytes still buffered **closes only once they drain**, and only then
#   does `connection_lost` set `writable` and free a waiting `send()`. The keepalive finds
#   a member that vanished; it **does not free a send blocked on a stalled one**.
#
# ## 8. One stalled reader, everyone's latency
#
# The experiment (`_sockets.room`, the `ws-broadcast` grader's own WebSocket clients): 10
# members that keep up join the `inline` room; 20 messages of 32 KiB are published, 40 a
# second, each POST on its own connection. Then again with one more member, joined first
# (the first the broadcast sends to), that reads nothing for 5.6 s (small socket
# buffers, as on a real network), then reads again.
#
# **Predict:** with the stalled member in the room, the 95th percentile of
# publish-to-receive latency for the 10 members that keep up? And when, in seconds after
# the first publish, does the last of them get its last message: when uvicorn's
# keepalive gives up on the stalled member (about 5 s after it joined), or later?

# %%
predicted_room_p95_ms = None  # your figure: ms, publish to receive, p95, with one member stalled
predicted_last_message_s = None  # your figure: s after the first publish

# %%
STALL = 5.6  # s the stalled member reads nothing: past the keepalive's 1 s + 4 s
with lab.serve(ROOMS) as app:
    hol = {"alone": room(app, "inline", stalled=False, messages=20, rate=40, resume_at=1.5),
           "stalled": room(app, "inline", messages=20, rate=40, resume_at=STALL)}
for name, r in hol.items():
    print(f"{name:8}: {r['complete']}/{r['readers']} members got all {r['messages']}; publish to receive p95 "
          f"{r['latency_p95_ms']} ms, worst {r['latency_max_ms']} ms; slowest POST {r['post_max_ms']} ms")
st, at = hol["stalled"]["stalled"], hol["stalled"]["at_resume"]
last_s = hol["stalled"]["last_received_ms"] / 1000
print(f"at {STALL} s, before the stalled member read again: each reader had {at['received_fewest']} of 20 messages, "
      f"{at['posts_answered']} POSTs answered, {at['rooms']['publishing']} still waiting; the stalled member's "
      f"connection {'still open' if at['stalled_connection_open'] else 'ended'}")
print(f"when it read again: it got {st['received']} messages then the close code {st['close_code']} "
      f"(uvicorn's keepalive), its connection ended {st['ended_after_resuming_ms']} ms later")
score("publish-to-receive p95 with one member stalled", predicted_room_p95_ms, hol["stalled"]["latency_p95_ms"],
      tolerance=Tolerance(relative=0.5), unit="ms")
score("last message received, s after the first publish", predicted_last_message_s, round(last_s, 1),
      tolerance=Tolerance(absolute=0.5), unit="s")

# %%
display(rooms_figure(hol, {"alone": "10 members that keep up", "stalled": "and one, first, that stops reading"}))

# %%
alone, stalled = hol["alone"], hol["stalled"]
assert alone["complete"] == 10 and alone["latency_p95_ms"] < 100 and alone["post_max_ms"] < 500, alone
assert stalled["complete"] == 10  # everything arrived in the end, in order
assert stalled["latency_p95_ms"] > 20 * alone["latency_p95_ms"] and stalled["latency_p95_ms"] > 3000, stalled
assert 0 < at["received_fewest"] < 20 and at["rooms"]["publishing"] > 0  # the buffers took a few, then the wait
assert at["stalled_connection_open"] and at["stalled_received"] == 0  # past the keepalive, still not closed
assert st["close_code"] == 1011  # the keepalive's close frame: it had given up before the member read again
assert st["ended_after_resuming_ms"] < 1000 and last_s > STALL - 0.1  # freed by the reader, not by the keepalive

# %% [markdown]
# Read it:
#
# - **Alone**, every message reached every member within milliseconds.
# - **With one stalled member**, the first messages went through (the bytes fitted in
#   the kernel's buffers, asyncio's 64 KiB and the client's): the count printed above.
#   Then one `send()` to the stalled member waited on `writable`, and the publish waiting
#   in it held up **every member after it**, and every later publish queued behind that
#   one: nobody got anything more for seconds, and the POSTs were not answered.
# - **The keepalive did not help.** uvicorn's ping went into the same full buffer; 4 s
#   later it gave up, wrote its 1011 close frame and closed the transport, which waits for
#   its buffer to drain. The room stayed frozen until the member read again, and only
#   then did it get the backlog, the close frame (the 1011 above), and its connection end.
#   A phone that never comes back holds the room until the kernel's TCP retransmission
#   gives up: minutes.
#
# ## 9. What a bounded queue costs, and what it saves
#
# The usual fix gives each member a **queue and a sender task**: the publish only puts
# the message in every member's queue and never waits for one. The question is the
# queue's bound. `unbounded` keeps every message for a member that stopped reading;
# `bounded` has 16 slots, and a member whose queue is full is dropped (closed with 1008):

# %%
show_function(Path(ROOMS), "class Member")

# %% [markdown]
# The same room, now 90 messages of 32 KiB at 60 a second, one member stalled for 2 s,
# the app's memory (RSS) sampled from outside every 50 ms; then 300 idle members held
# open, to read what one connection costs (each in a `bounded` room: its queue, its
# sender and listener tasks, uvicorn's protocol and `websockets`' state).
#
# **Predict:** how many MiB does the `unbounded` service's memory grow while the member
# is stalled? And how many KB does one idle member cost?

# %%
predicted_unbounded_growth_mib = None  # your figure: MiB of RSS growth over the 2 s stall
predicted_kb_per_member = None  # your figure: KB of RSS per idle WebSocket member

# %%
with lab.serve(ROOMS) as app:
    queues = {way: room(app, way, messages=90, rate=60, resume_at=2.0) for way in ("unbounded", "bounded")}
    idle_ws = idle_members(app, (20, 100, 300))
for way, r in queues.items():
    s_ = r["stalled"]
    print(f"{way:9}: readers {r['complete']}/{r['readers']} complete, p95 {r['latency_p95_ms']} ms, slowest POST "
          f"{r['post_max_ms']} ms; memory +{r['memory_growth_mib']} MiB while stalled; queued at 2 s: "
          f"{r['at_resume']['rooms']['queued']}; the stalled member got {s_['received']} of 90, close code "
          f"{s_['close_code']}")
print("idle members -> RSS: " + ", ".join(f"{t['members']}: {t['rss'] / 2**20:.1f} MiB" for t in idle_ws["trace"])
      + f"; {idle_ws['kb_per_member']} KB per member")
score("unbounded queue, memory growth while stalled", predicted_unbounded_growth_mib,
      queues["unbounded"]["memory_growth_mib"], tolerance=Tolerance(relative=0.5), unit="MiB")
score("KB per idle WebSocket member", predicted_kb_per_member, idle_ws["kb_per_member"],
      tolerance=Tolerance(relative=0.5), unit="KB")

# %%
display(rooms_figure(queues, {"unbounded": "a queue per member, no bound",
                              "bounded": "16 slots, then the member is dropped"}))

# %%
u, b = queues["unbounded"], queues["bounded"]
for r in (u, b):  # the readers no longer wait for anyone
    assert r["complete"] == 10 and r["latency_p95_ms"] < 250 and r["post_max_ms"] < 1000, r
assert u["at_resume"]["rooms"]["queued"] > 50 and u["stalled"]["received"] == 90 and u["stalled"]["close_code"] is None
assert u["memory_growth_mib"] > 0.75, u  # the messages kept alive for the stalled member (~1.5 MiB measured)
assert b["at_resume"]["rooms"]["dropped"] >= 1 and b["stalled"]["close_code"] == 1008 and b["stalled"]["received"] < 30
assert b["memory_growth_mib"] < 0.5 * u["memory_growth_mib"], (b, u)
assert all(t["in_rooms"] == t["members"] for t in idle_ws["trace"])
assert 5 < idle_ws["kb_per_member"] < 200, idle_ws  # tens of KB, not megabytes

# %% [markdown]
# Read it:
#
# - **Both queues saved the room**: the readers got every message in milliseconds and the
#   POSTs were answered at once, while one member read nothing.
# - **No bound** kept every message for the stalled member: the messages queued for it
#   (the count at 2 s, above; 32 KiB each) are kept alive by its queue alone, after every
#   other member had them, and the service's memory grew with them (less what the
#   process had free already). It would go on growing for as long as the phone stays in
#   the tunnel, one such backlog per tunnel. When it read again it got the whole backlog,
#   late.
# - **A bound of 16** costs at most 16 messages per member (here 512 KiB of message text,
#   and the messages are shared between the members' queues), and the member that fell
#   behind is **dropped**: it loses what it missed and must reconnect and catch up
#   (from a history the app keeps, or from a fresh snapshot). That is the price; what it
#   saves is the memory, and a member never fed a backlog it can no longer use.
# - **An idle member costs tens of KB** (the figure above), no thread: as for SSE,
#   thousands per worker by memory; the file descriptor limit, the keepalive pings (one
#   per member per interval) and the broadcast's sends come first.
#
# A send deadline (`asyncio.wait_for(ws.send_text(...), 0.5)`, sending to every member at
# once) is the other fix, in `solutions/ws-broadcast/send_deadline.py`.
#
# ## 10. Your turn: one phone in a tunnel and the whole room goes quiet
#
# The `ws-broadcast` exercise's starter is the `inline` room of section 8. The cell below
# copies it to `mine/09-room.py` (once: your edits are kept). Fix it there, save, and run
# the check: the exercise's scenario (30 members that keep up, one that stops reading and
# one that vanishes, 240 messages of 32 KiB at 60 a second) and its checks: every reader
# gets every message in order, p95 under 250 ms, every POST within 2 s, memory bounded,
# the stalled member dropped, the vanished one closed by the keepalive, the loop free.

# %%
room_turn = TURNS["09-room"]
display(Code(filename=room_turn.start(), language="python"))

# %%
room_verdict = room_turn.check()  # grades mine/09-room.py with the ws-broadcast checks; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert room_verdict.passed, room_verdict.render()

# %% [markdown]
# Stuck? Run `room_turn.show_answer()` in a new cell to see one answer.
#
# ## What to remember
#
# - **`EventSourceResponse`** (in the installed FastAPI): a producer task and a keep-alive task
#   per stream, a one-slot memory stream between your generator and the response,
#   `: ping` after 15 s of silence, `Cache-Control: no-cache` and `X-Accel-Buffering: no`.
#   A `def` generator goes through `iterate_in_threadpool`: a worker thread per `next()`.
# - **Idle async streams are cheap**: tens of KB and one file descriptor each, no
#   thread; plan listeners per worker from the descriptor limit, keep-alive writes and
#   broadcast cost, not memory.
# - **A sync stream holds a worker thread while it waits**, and keeps it after its client
#   left: 40 such streams and every `def` endpoint, `/health` included, waits.
# - **A disconnect arrives at an `await`**: with uvicorn's ASGI 2.3, Starlette's listener
#   task cancels the stream within milliseconds; a task nobody cancels, or a sync
#   generator parked at `yield`, keeps the model writing for nobody.
# - **A WebSocket `send()` waits while asyncio holds over 64 KiB for that socket**, with no
#   deadline: a broadcast that awaits each member in turn waits for the slowest, and one
#   stalled member freezes the room and its publishers. uvicorn's keepalive finds a
#   member that vanished but does not free a send blocked on a stalled one.
# - **A queue and a sender task per member, with a bound**: the publish never waits; a
#   member that falls behind by the bound is dropped (and reconnects), and memory stays
#   flat. Without the bound, every message is kept for a member that may never read.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Graded exercise: `token-stream`.** The chat relay of section 6, graded with 60
#   conversations and 20 clients that leave:
#   [README](../exercises/token-stream/README.md),
#   [starter.py](../exercises/token-stream/starter.py), the contract
#   [token-stream.md](../docs/contract/token-stream.md). Fix a copy, then from the
#   repository's folder `python -m autograder grade token-stream my_fix.py`. In a class:
#   the nbgrader notebook
#   [token-stream.ipynb](../exercises/source/token-stream/token-stream.ipynb).
# - **Drills** on model streams: `python -m autograder drill predict-sse-sync-threads`
#   (how many streams a `def` relay opens before the first token),
#   `python -m autograder drill predict-sse-wasted-task` (tokens read after the client
#   left), the spot-and-fix `python -m autograder drill fix-relay-never-closes`, and the
#   question `python -m autograder drill q-sse-clients-per-worker`. On streams and threads:
#   `python -m autograder drill predict-stream-sync-generator` and
#   `python -m autograder drill q-timeouts-threads` (all of them in
#   [10 · drills](10_drills.ipynb)).
# - **Graded exercise: `ws-broadcast`.** The room of sections 7-10, graded with 30
#   readers, one stalled member and one that vanishes:
#   [README](../exercises/ws-broadcast/README.md),
#   [starter.py](../exercises/ws-broadcast/starter.py), the contract
#   [ws-broadcast.md](../docs/contract/ws-broadcast.md). Fix a copy, then
#   `python -m autograder grade ws-broadcast my_fix.py`.
# - **Drills** on WebSockets: `python -m autograder drill predict-ws-stalled-reader`
#   (what the readers get while one member stalls),
#   `python -m autograder drill predict-ws-queued-reader` (the same with a queue per
#   member), `python -m autograder drill predict-ws-replicas-in-memory` and
#   `python -m autograder drill predict-ws-replicas-redis` (a room across two replicas),
#   the spot-and-fix `python -m autograder drill fix-room-keeps-dead-member`, and the
#   questions `python -m autograder drill q-ws-stalled-reader` and
#   `python -m autograder drill q-ws-fanout-fleet`.
# - **Next:** [10 · drills](10_drills.ipynb): every drill of the course, in one notebook.
