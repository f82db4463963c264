# %% [markdown]
# # 10 · Interview drills: predict, measure, fix
#
# Short, timed, self-checking practice for an interview on FastAPI concurrency, on the
# same engine as the notebooks and the grader.
#
# - **Predict, then measure.** A snippet and a load ("20 requests at once"). You type a
#   figure: the total time, the slowest request, the upstream's peak in flight, the
#   `/health` p95, the order background tasks wrote their lines. The drill serves the
#   snippet in its own process, sends the load, and scores your prediction against **the
#   live measurement**, within a stated tolerance; then the timeline and two sentences of why.
# - **Spot and fix.** A broken service under a clock; your fix is graded by the course's
#   grader (same runner, dependency servers and checks as the graded exercises): a
#   blocking dependency, a lock, a tiny executor, and two on upstreams, a fan-out the
#   upstream throttles with 429s and prices that hang until `/health` stops answering.
# - **Questions.** The classic ones, and the production ones (rate limits, fan-out,
#   timeouts, graceful shutdown, vanishing tasks, database pools, finding the blocking
#   line), with model answers that cite a drill you can rerun.
#
# The same drills run in a terminal: `python -m autograder drill --list`,
# `python -m autograder drill predict-def-limiter`, `python -m autograder drill --random 5`.

# %%
import tempfile
import time
from pathlib import Path

import ipywidgets as widgets
from _lesson import LeakCheck
from _widgets import run_button
from IPython.display import Markdown, display

from autograder.drills import show
from autograder.drills.catalog import DRILLS, Question, SpotFixDrill

leaks = LeakCheck()  # the last cell checks that nothing started here is left running
rows = [f"| `{d.id}` | {d.kind} | {d.title} |" for d in DRILLS.values()]
display(Markdown("| drill | kind | what |\n|---|---|---|\n" + "\n".join(rows)))

# %% [markdown]
# ## 1. Predict, then measure
#
# Pick a drill, read the snippet and the load, type your prediction (`0.3`, `300ms`,
# `40`; for background tasks, the words in order), then run it. Each run starts a
# server, so give it a second or three.

# %%
PREDICT = {d.id: d for d in DRILLS.values() if d.kind == "predict"}


def run_prediction(drill_id: str, prediction: str) -> None:
    d = PREDICT[drill_id]
    try:
        guess = d.parse(prediction) if prediction.strip() else d.reference()
    except ValueError as exc:
        print(exc)
        return
    if not prediction.strip():
        print(f"(no prediction typed: using the reference answer, {d.reference_text()})")
    measured = d.run()
    result = d.score(guess, measured)
    print(("✓ " if result.passed else "✗ ") + result.message)
    for key, value in measured.notes.items():
        print(f"  {key}: {value}")
    if measured.burst is not None:
        display(show.figure(measured.burst, d.title))
    print("why:", d.explanation)


choice = widgets.Dropdown(options=list(PREDICT), value="predict-def-limiter", description="drill")
brief = widgets.Output()


def show_brief(change: object = None) -> None:
    d = PREDICT[choice.value]
    brief.clear_output()
    with brief:
        display(Markdown(f"**{d.title}**\n\n```python\n{d.source()}```\n\n" + d.prompt().replace("\n", "  \n")))


choice.observe(show_brief, names="value")
show_brief()
display(brief)
display(run_button(run_prediction, description="Measure", drill_id=choice,
                   prediction=widgets.Text(placeholder="your prediction", description="predict")))

# %% [markdown]
# The cell below runs one drill without widgets (it is also what a headless run of this
# notebook checks): 100 requests at a `def` endpoint whose every request calls a 0.3 s
# upstream. The reference answer, 40 in flight (AnyIO's default `CapacityLimiter`), is
# scored against the peak that the upstream itself recorded.

# %%
d = PREDICT["predict-def-limiter"]
print(d.prompt())
measured = d.run()
result = d.score(d.reference(), measured)
print(result.message)
print(show.text_timeline(measured.burst))
display(show.figure(measured.burst, d.title))
assert result.passed, result.message

# %% [markdown]
# A deploy sends `SIGTERM`. Ten requests have just been answered `202`, each leaving a
# 0.5 s background task that writes a receipt line. How many lines are there once the
# process has exited? (The course serves with `--timeout-graceful-shutdown 1`; uvicorn's
# own default has no limit.) Rerun it with `SIGKILL`:
# `python -m autograder drill predict-sigkill-background`.

# %%
d = PREDICT["predict-sigterm-background"]
print(d.prompt())
measured = d.run()
result = d.score(d.reference(), measured)
print(result.message)
for key, value in measured.notes.items():
    print(f"  {key}: {value}")
assert result.passed, result.message

# %% [markdown]
# ## 2. Spot and fix, against the clock
#
# Start the clock: the starter is copied to a scratch folder and its path shown. Fix it
# (in any editor), type the path of your fix and grade it. Over the time limit, a pass
# counts half. The bar counts the seconds in your browser; the grade reports the time used.

# %%
FIX = {d.id: d for d in DRILLS.values() if isinstance(d, SpotFixDrill)}
SCRATCH = Path(tempfile.mkdtemp(prefix="drills-"))
clock: dict[str, float] = {}

fix_choice = widgets.Dropdown(options=list(FIX), description="drill")
ticker = widgets.Play(interval=1000, value=0, min=0, max=int(FIX[fix_choice.value].time_limit), show_repeat=False)
elapsed = widgets.IntProgress(min=0, max=ticker.max, description="seconds")
widgets.jslink((ticker, "value"), (elapsed, "value"))  # counts in the browser, not the kernel


def start(drill_id: str) -> None:
    d = FIX[drill_id]
    copy = SCRATCH / f"{d.id.replace('-', '_')}.py"
    copy.write_text(d.starter.read_text())
    clock[drill_id] = time.monotonic()
    ticker.max = elapsed.max = int(d.time_limit)
    ticker.value = 0
    ticker.playing = True
    display(Markdown(f"**{d.title}**: {d.prompt()}\n\nYour copy: `{copy}` "
                     f"({d.time_limit / 60:.0f} minutes)\n\n```python\n{copy.read_text()}```"))


def grade(drill_id: str, path: str) -> None:
    d = FIX[drill_id]
    used = time.monotonic() - clock.get(drill_id, time.monotonic())
    ticker.playing = False
    target = Path(path.strip()) if path.strip() else SCRATCH / f"{d.id.replace('-', '_')}.py"
    print(f"time used: {used / 60:.1f} of {d.time_limit / 60:.0f} minutes; grading {target}")
    verdict = d.grade(target)
    print(verdict.render())
    if verdict.passed:
        print("score:", 1 if used <= d.time_limit else 0.5)


display(run_button(start, description="Start the clock", drill_id=fix_choice))
display(widgets.HBox([ticker, elapsed]))
display(run_button(grade, description="Grade my fix", drill_id=fix_choice,
                   path=widgets.Text(placeholder="path of your fix (empty: the copy)", description="fix")))

# %% [markdown]
# Headless, the same grader runs on one drill's starter and on its reference fix: the
# starter must fail on the checks that describe its symptom, the fix pass them all.

# %%
d = FIX["fix-blocking-dependency"]
broken = d.grade(d.starter)
print(broken.render())
fixed = d.grade(d.reference)
print(fixed.render())
assert not broken.passed and {"concurrent", "loop-free"} <= set(broken.failed)
assert fixed.passed

# %% [markdown]
# ## 3. Questions
#
# Answer out loud or in the box, then compare with the model answer. Each answer cites
# a figure with the command that measures it again.

# %%
Q = {q.id: q for q in DRILLS.values() if isinstance(q, Question)}
q_choice = widgets.Dropdown(options=list(Q), description="question")


def reveal(question_id: str, answer: str) -> None:
    q = Q[question_id]
    display(Markdown(f"**Q:** {q.question}\n\n**Model answer:** {q.model_answer()}\n\n"
                     "**Key points:** " + "; ".join(q.key_points)))


display(run_button(reveal, description="Show the model answer", question_id=q_choice,
                   answer=widgets.Textarea(placeholder="your answer", description="answer")))

q = Q["q-threadpool-size"]
display(Markdown(f"**Q:** {q.question}\n\n**Model answer:** {q.model_answer()}"))
assert "predict-def-limiter" in q.model_answer()

q = Q["q-create-task-vanishes"]
display(Markdown(f"**Q:** {q.question}\n\n**Model answer:** {q.model_answer()}"))
assert "predict-create-task-vanishes" in q.model_answer()

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **In a terminal**, timed: `python -m autograder drill --random 5` (five at random),
#   or one by id, e.g. `python -m autograder drill fix-lock-serialises`.
# - **The graded exercises**, listed by `python -m autograder list`, e.g.
#   [threadpool-exhaustion](../exercises/threadpool-exhaustion/README.md).
# - **Back to** [the course map](00_setup.ipynb) when a drill surprises you.
# - **Next:** [11 · capstone](11_capstone.ipynb): scan an unfamiliar service, find its three
#   stalls, fix them, scan again.
