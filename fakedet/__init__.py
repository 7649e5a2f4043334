"""fakedet: a GAN discriminator as a fake-image detector, one trial at a time.

Pure one-trial code, no Ray: `python -m fakedet --help`. The sweep over many trials is in
`sweeps/`, the statistics over their results in `analysis/`.
"""

__version__ = "0.2.0"
