"""nn.functional: the namespace and the compositions that live there (one_hot, normalize,
cosine_similarity, pairwise_distance, embedding, pad) against torch."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

CASES = [
    OpCase("normalize", lambda lib, x: lib.nn.functional.normalize(x),
           [((3, 4),), ((2, 3, 4),)]),
    OpCase("normalize_p1_dim0", lambda lib, x: lib.nn.functional.normalize(x, p=1.0, dim=0),
           [((3, 4),)]),
    OpCase("cosine_similarity", lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b),
           [((3, 4), (3, 4)), ((3, 4, 2), (1, 4, 2))]),
    OpCase("cosine_similarity_dim", lambda lib, a, b: lib.nn.functional.cosine_similarity(
        a, b, dim=-1, eps=1e-3), [((3, 4), (3, 4))]),
    OpCase("pairwise_distance", lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b),
           [((3, 4), (3, 4)), ((3, 4), (4,))]),
    OpCase("pairwise_distance_p1", lambda lib, a, b: lib.nn.functional.pairwise_distance(
        a, b, p=1.0, keepdim=True), [((3, 4), (3, 4))], gradgrad=False),
    OpCase("embedding", lambda lib, i, w: lib.nn.functional.embedding(i, w),
           [(np.array([[0, 2], [2, 1]]), (4, 3))]),
    OpCase("embedding_padding", lambda lib, i, w: lib.nn.functional.embedding(
        i, w, padding_idx=2), [(np.array([[0, 2], [2, 1]]), (4, 3))]),
    OpCase("pad", lambda lib, x: lib.nn.functional.pad(x, (1, 2)), [((2, 3),)]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_composition_matches_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def test_cosine_similarity_zero_vector_matches_torch():
    a = np.array([[0.0, 0.0], [1.0, 2.0]])
    b = np.array([[1.0, 1.0], [2.0, 4.0]])
    a_d, a_t = deepgrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    d = deepgrad.nn.functional.cosine_similarity(a_d, deepgrad.tensor(b))
    t = torch.nn.functional.cosine_similarity(a_t, torch.tensor(b))
    assert_close(d, t, 1e-12, 1e-12, "cosine with a zero vector")
    d.sum().backward()
    t.sum().backward()
    assert_close(a_d.grad, a_t.grad, 1e-9, 1e-12, "cosine grad with a zero vector")


def test_one_hot_matches_torch():
    for values, classes in (([0, 2, 1], -1), ([[1, 0], [3, 3]], 5), ([], 3)):
        d = deepgrad.nn.functional.one_hot(deepgrad.tensor(values, dtype=deepgrad.int64), classes)
        t = torch.nn.functional.one_hot(torch.tensor(values, dtype=torch.long), classes)
        assert_close(d, t, 0, 0, f"one_hot {values}")
    errors = (([1, 2], "int32", -1, "only applicable to index tensor of type LongTensor"),
              ([], "int64", -1, "Can not infer total number of classes from empty tensor"),
              ([1, 5], "int64", 3, "Class values must be smaller than num_classes"),
              ([1, -1], "int64", 3, "Class values must be non-negative"))
    for values, dtype, classes, message in errors:
        with pytest.raises(RuntimeError, match=message):
            deepgrad.nn.functional.one_hot(
                deepgrad.tensor(values, dtype=getattr(deepgrad, dtype)), classes)


def test_embedding_padding_row_gets_no_gradient():
    weight = deepgrad.ones(4, 3, requires_grad=True)
    deepgrad.nn.functional.embedding(deepgrad.tensor([0, 2, 2]), weight, padding_idx=2).sum(
    ).backward()
    np.testing.assert_array_equal(weight.grad.numpy()[:, 0], [1, 0, 0, 0])


def test_namespace_has_torch_names():
    wanted = [
        "linear", "bilinear", "relu", "relu_", "relu6", "elu", "selu", "celu", "leaky_relu",
        "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardsigmoid", "hardswish",
        "softplus", "softsign", "softshrink", "hardshrink", "tanhshrink", "threshold",
        "logsigmoid", "glu", "prelu", "softmax", "softmin", "log_softmax", "dropout",
        "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "cross_entropy", "nll_loss",
        "multi_margin_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
        "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
        "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
        "cosine_embedding_loss", "one_hot", "pad", "normalize", "cosine_similarity",
        "pairwise_distance", "embedding",
    ]
    for name in wanted:
        assert callable(getattr(deepgrad.nn.functional, name)), name
        assert hasattr(torch.nn.functional, name), name
    assert set(deepgrad.nn.functional.__all__) >= set(wanted)


def test_relu_inplace_functional():
    x = deepgrad.tensor([-1.0, 2.0])
    assert deepgrad.nn.functional.relu_(x) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 2.0])
