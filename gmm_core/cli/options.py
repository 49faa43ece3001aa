"""What ``gmm-core fit`` hands the estimator, in one process or under torchrun alike."""

from __future__ import annotations

from .arguments import EM_OPTIONS
from .errors import USAGE, CommandError


def estimator_options(args) -> dict:
    """GaussianMixture's arguments from the command line; status 2 for a missing device."""
    check_device(args.device)
    options = dict(
        covariance_type=args.covariance_type, random_state=args.random_state, device=args.device
    )
    for name in (*EM_OPTIONS, "reg_covar"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    return options


def check_device(device: str) -> None:
    """Refuse a CUDA device this machine does not have (status 2)."""
    if device == "cpu":
        return
    import torch

    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.partition(":")[2] or 0)
    if index >= available:
        have = f"{available} CUDA device(s)" if available else "no CUDA device"
        raise CommandError(
            f"argument --device: {device} is not available (this machine has {have}, torch "
            f"{torch.__version__}); use --device cpu",
            USAGE,
        )
