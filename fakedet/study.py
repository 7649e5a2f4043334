"""The 2022 study this project re-asks, as published (no torch: the analysis imports it).

A. R. Pérez Rojas, "Evaluación de la generalización de un detector de imágenes falsas
entrenado como parte de una red GAN convolucional", February 2022: one DCGAN pair, one
unstated set of held-out Fashion-MNIST classes, one run each. Its tables are summarised in
English in SEED_STUDY.md of the project's shared folder.
"""

from __future__ import annotations

NETWORKS = ("hands_on", "brownlee")
"""The study's network 1 and network 2, by this project's architecture names."""

# (label, suite, metric, generator) -> (network 1, network 2). Generator "other": the
# fakes of the other network's generator.
PUBLISHED = [
    ("overall: generated precision", "overall", "generated_precision", None, (0.59, 0.69)),
    ("overall: generated recall", "overall", "generated_recall", None, (0.82, 0.94)),
    ("overall: generated F1", "overall", "generated_f1", None, (0.69, 0.79)),
    ("overall: real precision", "overall", "real_precision", None, (0.71, 0.91)),
    ("overall: real recall", "overall", "real_recall", None, (0.44, 0.57)),
    ("overall: real F1", "overall", "real_f1", None, (0.54, 0.70)),
    ("overall: accuracy", "overall", "accuracy", None, (0.63, 0.76)),
    ("overall: macro precision", "overall", "macro_precision", None, (0.65, 0.80)),
    ("overall: macro recall", "overall", "macro_recall", None, (0.63, 0.76)),
    ("overall: macro F1", "overall", "macro_f1", None, (0.61, 0.75)),
    ("real, held-out classes: recall", "real_heldout", "real_recall", None, (0.43, 0.57)),
    ("real, training classes: recall", "real_test", "real_recall", None, (0.46, 0.61)),
    ("other GAN's fakes: recall", "cross_fake", "generated_recall", "other", (0.79, 1.00)),
]
