"""nn.Embedding and F.embedding against torch: lookups, padding_idx, max_norm (in-place
renormalisation), scale_grad_by_freq, from_pretrained, repr, state_dict and errors."""

import numpy as np
import pytest
import torch

import deepgrad

INDICES = np.array([[1, 2, 4, 5], [4, 3, 2, 9], [0, 0, 4, 4]])


def _pair(**kwargs):
    """A torch Embedding and a deepgrad twin with the same table."""
    t = torch.nn.Embedding(10, 3, **kwargs)
    d = deepgrad.nn.Embedding(10, 3, **kwargs)
    d.load_state_dict({k: deepgrad.tensor(v.detach().numpy()) for k, v in
                       t.state_dict().items()})
    return t, d


@pytest.mark.parametrize("kwargs", [
    {}, {"padding_idx": 0}, {"padding_idx": -6}, {"max_norm": 1.0},
    {"max_norm": 0.5, "norm_type": 1.0}, {"scale_grad_by_freq": True},
    {"padding_idx": 4, "scale_grad_by_freq": True, "max_norm": 2.0},
])
def test_embedding_matches_torch(kwargs):
    t, d = _pair(**kwargs)
    weights = np.random.default_rng(0).standard_normal(INDICES.shape + (3,)).astype(np.float32)
    t_out = t(torch.tensor(INDICES))
    d_out = d(deepgrad.tensor(INDICES))
    np.testing.assert_allclose(d_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6)
    (t_out * torch.tensor(weights)).sum().backward()
    (d_out * deepgrad.tensor(weights)).sum().backward()
    np.testing.assert_allclose(d.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6,
                               atol=1e-7)
    # max_norm renormalised the table in place, in both
    np.testing.assert_allclose(d.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-6)


def test_defaults_repr_and_state_dict_like_torch():
    t, d = torch.nn.Embedding(7, 4, padding_idx=2, max_norm=3.0), \
        deepgrad.nn.Embedding(7, 4, padding_idx=2, max_norm=3.0)
    assert repr(d) == repr(t)
    assert list(d.state_dict()) == list(t.state_dict())
    assert np.all(d.weight.detach().numpy()[2] == 0)
    big = deepgrad.nn.Embedding(1000, 50).weight.detach().numpy()
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1) < 0.02  # N(0, 1) as torch


def test_from_pretrained_freezes_by_default():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    for freeze in (True, False):
        t = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=freeze)
        d = deepgrad.nn.Embedding.from_pretrained(deepgrad.tensor(table), freeze=freeze)
        assert d.weight.requires_grad == t.weight.requires_grad
        np.testing.assert_array_equal(d(deepgrad.tensor([3, 1])).detach().numpy(),
                                      t(torch.tensor([3, 1])).detach().numpy())


def test_errors():
    d = deepgrad.nn.Embedding(5, 2)
    with pytest.raises(RuntimeError, match="indices"):
        d(deepgrad.tensor([0.0, 1.0]))
    with pytest.raises(IndexError):
        d(deepgrad.tensor([5]))
    with pytest.raises(NotImplementedError, match="sparse"):
        deepgrad.nn.Embedding(5, 2, sparse=True)(deepgrad.tensor([1]))
