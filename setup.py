"""vsr: a unified video super-resolution framework. torch is pinned by the Makefile (TORCH)."""

from setuptools import find_packages, setup

setup(
    name="vsr",
    version="0.1.0",
    description="Unified video super-resolution: one registry, config system, trainer, evaluator",
    packages=find_packages(include=["vsr", "vsr.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch>=2.1",
        "numpy>=1.24",
        "scipy>=1.10",
        "PyYAML>=6.0",
        "av>=12.0",
        "opencv-python-headless>=4.8",
        "scikit-image>=0.22",
        "lmdb>=1.4",
        "tqdm>=4.60",
        "einops>=0.7",
        "PyWavelets>=1.5",
        "cvxpy>=1.4",
        "matplotlib>=3.7",
    ],
    extras_require={
        "tensorboard": ["tensorboard>=2.14"],
        "dev": ["pytest>=8", "ruff>=0.5", "tensorboard>=2.14"],
    },
    entry_points={"console_scripts": ["vsr=vsr.cli.main:main"]},
)
