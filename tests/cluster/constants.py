"""Names shared by the local control plane, its job executor and the tests that use them.

Where Job pods run
------------------
The cluster has two kinds of nodes:

* kwok nodes (``kwok-node-0``, ...): simulated by kwok. Pods bound to them become Running and
  Ready at once and are removed when deleted; nothing is executed. Deployments, StatefulSets and
  the like land here. kwok manages only nodes annotated ``KWOK_NODE_ANNOTATION``.
* the job executor node (``JOB_EXECUTOR_NODE``): registered by the test suite's job executor,
  which runs each pod bound to it as local processes (the container's command and args) and
  reports their status back, so the real Job controller completes or fails the Job.

The executor node carries the label ``JOB_EXECUTOR_LABEL`` and the taint ``JOB_EXECUTOR_TAINT``
(``NoSchedule``), so only pods that ask for it go there. A Job meant to run for real needs, in
its pod template::

    nodeSelector: {"migration-rollback.test/job-executor": "true"}
    tolerations: [{"key": "migration-rollback.test/job-executor", "operator": "Exists",
                   "effect": "NoSchedule"}]

``JOB_NODE_SELECTOR`` and ``JOB_TOLERATIONS`` hold exactly that. A Job pod that lands on a kwok
node instead stays Running forever (kwok here is configured without its "pod-complete" stage),
so a missing selector shows up as a hanging Job, never as a false success.
"""

from __future__ import annotations

from typing import Final

#: Name of the node the job executor registers and serves.
JOB_EXECUTOR_NODE: Final = "job-executor"
#: Label (key, value) on the job executor node.
JOB_EXECUTOR_LABEL: Final = ("migration-rollback.test/job-executor", "true")
#: Taint (key, value, effect) on the job executor node.
JOB_EXECUTOR_TAINT: Final = ("migration-rollback.test/job-executor", "true", "NoSchedule")

#: ``spec.template.spec.nodeSelector`` that sends a Job's pods to the job executor.
JOB_NODE_SELECTOR: Final[dict[str, str]] = {JOB_EXECUTOR_LABEL[0]: JOB_EXECUTOR_LABEL[1]}
#: ``spec.template.spec.tolerations`` that lets a Job's pods onto the job executor node.
JOB_TOLERATIONS: Final[list[dict[str, str]]] = [
    {"key": JOB_EXECUTOR_TAINT[0], "operator": "Exists", "effect": JOB_EXECUTOR_TAINT[2]}
]

#: Environment variable the executor sets in every container: the local file standing in for
#: the container's ``terminationMessagePath`` (``/dev/termination-log`` by default, which a local
#: process cannot write). The executor also rewrites that path wherever it appears literally in
#: the container's command, args and env values. Programs should write their termination
#: message to ``os.environ.get("TERMINATION_MESSAGE_PATH", "/dev/termination-log")``.
TERMINATION_MESSAGE_PATH_ENV: Final = "TERMINATION_MESSAGE_PATH"
#: Environment variable the executor sets to a kubeconfig holding a token of the pod's service
#: account (TokenRequest, bound to the pod), unless the pod opts out of token automounting. It
#: stands in for the in-cluster config, whose fixed paths a local process cannot have.
POD_KUBECONFIG_ENV: Final = "KUBECONFIG"

#: Annotation that marks the nodes kwok manages (kwok runs with this annotation selector).
KWOK_NODE_ANNOTATION: Final = ("kwok.x-k8s.io/node", "fake")
#: Label on the kwok nodes.
KWOK_NODE_LABEL: Final = ("type", "kwok")
#: Names of the kwok nodes: f"{KWOK_NODE_PREFIX}{i}".
KWOK_NODE_PREFIX: Final = "kwok-node-"
#: How many pod stages (make Ready, remove a deleted pod) kwok plays at once, over all its nodes
#: (``podPlayStageParallelism``; kwok v0.8.0's default is 4, one worker pool for every node).
#: A kubelet works each of its pods in a goroutine of its own, and a cluster has a kubelet per
#: node, so 4 would serialise a scale-down of 40 pods the way no real cluster does. 100 gives
#: every pod of the largest bench (50 rollbacks x 2 replicas) its own worker.
KWOK_POD_PARALLELISM: Final = 100
#: Environment variable that overrides ``KWOK_POD_PARALLELISM`` (e.g. 4, kwok's default, to
#: compare).
KWOK_POD_PARALLELISM_ENV: Final = "MIGRATION_ROLLBACK_KWOK_POD_PARALLELISM"

#: Service CIDR of the cluster. Service and pod IPs exist only as API data: nothing listens on
#: them and nothing may connect to them; every real endpoint is on 127.0.0.1.
SERVICE_CIDR: Final = "10.0.0.0/24"
#: Cluster name in the kubeconfig.
CLUSTER_NAME: Final = "migration-rollback-test"
