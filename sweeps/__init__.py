"""The sweep on Ray: every trial of a plan through Ray Tune, then cross-evaluation and the
dedicated detectors. Entry point: `python sweeps/all_triples.py`.

    plan.py      what to run: the grid, its parsing, cross pairs
    estimate.py  device-hours of a plan and --pack auto (the cost model: fakedet/cost.py)
    cluster.py   joining or starting Ray, and what each trial asks of it
    run.py       the phases on Ray: Tune for training, tasks for the rest
    progress.py  the live status and the tables the driver prints
"""
