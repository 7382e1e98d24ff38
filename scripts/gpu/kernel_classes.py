"""Kernel classes for GPU profiles: one declaration, used by torch_step.py --profile (PyTorch's steps) and by
trace_summary.py (SlmGen's steps, from `Bench --profile`), so the two sides' tables line up. A kernel's class is the
first whose pattern its lower-cased name matches (SlmGen's own kernels live in namespace slm::)."""
import re

KERNEL_CLASSES = [
    ("triton-fused", r"triton"),
    ("attention", r"flash|fmha|attention|efficient"),
    ("matmul", r"gemm|sm\d+_xmma|cutlass|nvjet|cublas|ampere_|hopper_|wgmma|splitk"),
    ("optimizer", r"adam|multi_tensor|foreach"),
    ("softmax-loss", r"softmax|nll|cross_entropy|log_softmax"),
    ("norm", r"layer_norm|layernorm|rms|norm_"),
    ("activation", r"gelu|relu|silu|swiglu|bias_act"),
    ("dropout", r"dropout|bernoulli|philox"),
    ("rope", r"rope|rotary"),
    ("reduction", r"reduce_kernel|reduce"),
    ("cast-copy", r"copy|cast|convert|to_copy|memcpy|memset"),
]


def classify(name):
    lower = name.lower()
    for label, pattern in KERNEL_CLASSES:
        if re.search(pattern, lower):
            return label
    return "other-elementwise"
