"""End to end: a small MLP trained with optim.SGD from identical weights follows torch's
loss trajectory step for step."""

import numpy as np
import pytest
import torch

import deepgrad

optim = pytest.importorskip("deepgrad.optim")


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 4))


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 10)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    return x, y


def train(lib, model, x, y, steps, **sgd):
    optimizer = lib.optim.SGD(model.parameters(), **sgd)
    loss_fn = lib.nn.CrossEntropyLoss()
    inputs, targets = lib.tensor(x), lib.tensor(y)
    losses = []
    for step in range(steps):
        batch = slice((step * 16) % 64, (step * 16) % 64 + 16)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs[batch]), targets[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("sgd", [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3},
                                 {"lr": 0.05, "momentum": 0.9, "nesterov": True}])
def test_mlp_sgd_trajectory_matches_torch(sgd):
    torch.manual_seed(0)
    t_model = mlp(torch)
    d_model = mlp(deepgrad)
    d_model.load_state_dict({k: deepgrad.tensor(v.detach().numpy())
                             for k, v in t_model.state_dict().items()})
    x, y = data()
    t_losses = train(torch, t_model, x, y, 20, **sgd)
    d_losses = train(deepgrad, d_model, x, y, 20, **sgd)
    np.testing.assert_allclose(d_losses, t_losses, rtol=1e-4, atol=1e-5)
    for (name, d), (_, t) in zip(d_model.state_dict().items(), t_model.state_dict().items(),
                                 strict=True):
        np.testing.assert_allclose(d.numpy(), t.detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def test_training_with_dropout_and_eval_is_deterministic_given_seed():
    nn = deepgrad.nn

    def run():
        deepgrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4))
        x, y = data(1)
        losses = train(deepgrad, model, x, y, 10, lr=0.1)
        model.eval()
        return losses, model(deepgrad.tensor(x)).detach().numpy()

    first, second = run(), run()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
