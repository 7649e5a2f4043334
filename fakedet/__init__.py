"""fakedet: a GAN discriminator as a fake-image detector, one trial at a time."""

__version__ = "0.1.0"
