"""The 2022 study this project re-asks, as published (no torch: the analysis imports it).

A. R. Pérez Rojas, "Evaluación de la generalización de un detector de imágenes falsas
entrenado como parte de una red GAN convolucional", February 2022: one DCGAN pair, one
unstated set of held-out Fashion-MNIST classes, one run each. Its tables are summarised in
English in SEED_STUDY.md of the project's shared folder.
"""

from __future__ import annotations

from dataclasses import dataclass

NETWORKS = ("hands_on", "brownlee")
"""The study's network 1 and network 2, by this project's architecture names."""


@dataclass(frozen=True)
class Published:
    """One row of the report's table: the same quantity for its two networks."""

    label: str
    """The report's name for the row (in English)."""
    measure: str
    """The quantity's name in `analysis.measures.REPORT`, the analysis's vocabulary (this
    package imports no analysis); `other_fakes`: the other network's fakes."""
    values: tuple[float, float]
    """(network 1, network 2)."""


PUBLISHED = [
    Published("overall: generated precision", "generated_precision", (0.59, 0.69)),
    Published("overall: generated recall", "generated_recall", (0.82, 0.94)),
    Published("overall: generated F1", "generated_f1", (0.69, 0.79)),
    Published("overall: real precision", "real_precision", (0.71, 0.91)),
    Published("overall: real recall", "reals_passed", (0.44, 0.57)),
    Published("overall: real F1", "real_f1", (0.54, 0.70)),
    Published("overall: accuracy", "accuracy", (0.63, 0.76)),
    Published("overall: macro precision", "macro_precision", (0.65, 0.80)),
    Published("overall: macro recall", "macro_recall", (0.63, 0.76)),
    Published("overall: macro F1", "macro_f1", (0.61, 0.75)),
    Published("real, held-out classes: recall", "unseen_recall", (0.43, 0.57)),
    Published("real, training classes: recall", "seen_recall", (0.46, 0.61)),
    Published("other GAN's fakes: recall", "other_fakes", (0.79, 1.00)),
]
"""The report's table, row by row."""
