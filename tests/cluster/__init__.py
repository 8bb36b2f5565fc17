"""The local Kubernetes control plane for the e2e tests (see README.md beside this file)."""

from .constants import (
    JOB_EXECUTOR_LABEL,
    JOB_EXECUTOR_NODE,
    JOB_EXECUTOR_TAINT,
    JOB_NODE_SELECTOR,
    JOB_TOLERATIONS,
    KWOK_NODE_ANNOTATION,
    KWOK_NODE_LABEL,
    KWOK_NODE_PREFIX,
    POD_KUBECONFIG_ENV,
    TERMINATION_MESSAGE_PATH_ENV,
)
from .controlplane import ControlPlane, ControlPlaneError, find_binaries

__all__ = [
    "JOB_EXECUTOR_LABEL",
    "JOB_EXECUTOR_NODE",
    "JOB_EXECUTOR_TAINT",
    "JOB_NODE_SELECTOR",
    "JOB_TOLERATIONS",
    "KWOK_NODE_ANNOTATION",
    "KWOK_NODE_LABEL",
    "KWOK_NODE_PREFIX",
    "POD_KUBECONFIG_ENV",
    "TERMINATION_MESSAGE_PATH_ENV",
    "ControlPlane",
    "ControlPlaneError",
    "find_binaries",
]
