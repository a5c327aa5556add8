"""How fast the GAN playground runs on a CPU: training steps per second, frames per second
(computing a frame's numbers, drawing it, PNG-encoding it), the frame rate while playing,
and the time from a Pause click to the last frame.

    python benchmarks/playground.py [--loss non-saturating] [--steps-per-frame 20] [--play 5]

The widget is driven as in a notebook: Play schedules training chunks on an asyncio event
loop. A click arrives at an arbitrary moment, usually while a chunk is running; the kernel
handles it when the loop next gets control. So the "click" here comes from another thread
at a random moment and is handed to the loop with ``call_soon_threadsafe``, and we time
from that moment to the end of the last frame drawn.
"""

import argparse
import asyncio
import random
import statistics
import threading
import time

from gancourse.playground import Choices, Playground, ToyGAN, png, render


def training_speed(choices, steps=2000, chunk=20):
    gan = ToyGAN(choices)
    gan.train(chunk)  # trace + warm up
    started = time.perf_counter()
    for _ in range(steps // chunk):
        gan.train(chunk)
    return steps / (time.perf_counter() - started)


def frame_costs(choices, n=50):
    gan = ToyGAN(choices)
    gan.train(200)
    gan.frame()  # trace
    parts = {"numbers": [], "drawing": [], "png": []}
    for _ in range(n):
        t0 = time.perf_counter()
        frame = gan.frame()
        t1 = time.perf_counter()
        picture = render(frame, gan.lim, choices.loss)
        t2 = time.perf_counter()
        data = png(picture)
        t3 = time.perf_counter()
        parts["numbers"].append(t1 - t0)
        parts["drawing"].append(t2 - t1)
        parts["png"].append(t3 - t2)
    return {k: statistics.median(v) * 1000 for k, v in parts.items()}, len(data)


async def play_and_pause(choices, steps_per_frame, seconds, pauses=5):
    """Frames per second while playing, and Pause-to-last-frame times (ms) of ``pauses`` clicks."""
    pg = Playground(choices, steps_per_frame=steps_per_frame)
    pg.step()  # trace the training and frame functions before measuring
    drawn = []
    original = pg._draw

    def draw():
        original()
        drawn.append(time.perf_counter())

    pg._draw = draw
    rates, latencies = [], []
    loop, rng = asyncio.get_running_loop(), random.Random(0)
    for _ in range(pauses):
        drawn.clear()
        steps_before = pg.gan.step_count
        task, started = pg.play(), time.perf_counter()
        click = {}

        def press_pause(click=click, steps_before=steps_before):
            click["time"] = time.perf_counter()
            click["frames"], click["steps"] = len(drawn), pg.gan.step_count - steps_before
            loop.call_soon_threadsafe(pg.pause)

        timer = threading.Timer(seconds / pauses * rng.uniform(0.8, 1.0), press_pause)
        timer.start()
        await task
        timer.join()
        clicked, frames, steps = click["time"], click["frames"], click["steps"]
        rates.append(
            (frames / (clicked - drawn[0] if len(drawn) > 1 else 1.0), steps / (clicked - started))
        )
        latencies.append(max(0.0, drawn[-1] - clicked) * 1000)
    fps = statistics.median(r[0] for r in rates)
    sps = statistics.median(r[1] for r in rates)
    return fps, sps, latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", default="non-saturating")
    parser.add_argument("--steps-per-frame", type=int, default=20)
    parser.add_argument("--play", type=float, default=5.0, help="seconds of playing in total")
    args = parser.parse_args()
    choices = Choices(loss=args.loss)
    print(f"choices: {choices}")
    print(
        f"training alone: {training_speed(choices):.0f} generator steps/s "
        f"(each with {choices.d_steps} discriminator step, batch {choices.batch_size})"
    )
    parts, size = frame_costs(choices)
    total = sum(parts.values())
    print(
        f"one frame: {total:.1f} ms = numbers {parts['numbers']:.1f} "
        f"+ drawing {parts['drawing']:.1f} "
        f"+ PNG {parts['png']:.1f} ({size // 1024} KB); at most {1000 / total:.0f} frames/s"
    )
    fps, sps, latencies = asyncio.run(play_and_pause(choices, args.steps_per_frame, args.play))
    print(f"playing at {args.steps_per_frame} steps/frame: {fps:.1f} frames/s, {sps:.0f} steps/s")
    print(
        f"Pause click to last frame: median {statistics.median(latencies):.0f} ms, "
        f"max {max(latencies):.0f} ms over {len(latencies)} clicks"
    )


if __name__ == "__main__":
    main()
