"""GRU/LSTM cells and their diagonal variants: PyTorch's own cells as independent references,
analytic Jacobians against autograd, the promised sparsity structure, and clear errors."""

from __future__ import annotations

import pytest
import torch

from attractor.errors import ConfigError
from attractor.models import GRU, LSTM, DiagGRU, DiagLSTM, DynamicalModel, create
from attractor.parallel.scan import to_dense

CELLS = [GRU, DiagGRU, LSTM, DiagLSTM]


def test_gru_equals_torch_grucell():
    torch.manual_seed(0)
    ref = torch.nn.GRUCell(3, 6).double()
    model = GRU(2, 6, n_inputs=3).double()
    with torch.no_grad():
        model.W.copy_(ref.weight_hh)
        model.U.copy_(ref.weight_ih)
        bias_hh = ref.bias_hh.clone()
        model.c_n.copy_(bias_hh[12:])
        bias_hh[12:] = 0
        model.b.copy_(ref.bias_ih + bias_hh)
    h = torch.randn(5, 6, dtype=torch.float64)
    s = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(model.step(h, s), ref(s, h))


def test_lstm_equals_torch_lstmcell():
    torch.manual_seed(1)
    hd = 4
    ref = torch.nn.LSTMCell(3, hd).double()
    model = LSTM(2, 2 * hd, n_inputs=3).double()
    # PyTorch orders the gates (i, f, g, o); this model orders them (i, f, o, g)
    perm = torch.cat(
        [torch.arange(0, 2 * hd), torch.arange(3 * hd, 4 * hd), torch.arange(2 * hd, 3 * hd)]
    )
    with torch.no_grad():
        model.W.copy_(ref.weight_hh[perm])
        model.U.copy_(ref.weight_ih[perm])
        model.b.copy_((ref.bias_ih + ref.bias_hh)[perm])
    h, c = torch.randn(5, hd, dtype=torch.float64), torch.randn(5, hd, dtype=torch.float64)
    s = torch.randn(5, 3, dtype=torch.float64)
    h_ref, c_ref = ref(s, (h, c))
    torch.testing.assert_close(model.step(torch.cat([h, c], -1), s), torch.cat([h_ref, c_ref], -1))


@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("n_inputs", [0, 2])
def test_analytic_jacobian_equals_autograd(cls, n_inputs):
    torch.manual_seed(2)
    model = cls(2, 8, n_inputs=n_inputs).double()
    z = torch.randn(6, 8, dtype=torch.float64) * 1.5
    s = torch.randn(6, n_inputs, dtype=torch.float64) if n_inputs else None
    torch.testing.assert_close(
        model.jacobian(z, s), DynamicalModel.jacobian(model, z, s), rtol=1e-12, atol=1e-12
    )
    val, jac = model.step_and_jacobian(z, s)
    torch.testing.assert_close(val, model.step(z, s))
    torch.testing.assert_close(to_dense(jac, model.jacobian_structure), model.jacobian(z, s))


def test_diagonal_cells_have_the_promised_structure():
    torch.manual_seed(3)
    z = torch.randn(4, 8, dtype=torch.float64)
    gru = DiagGRU(2, 8).double()
    assert gru.jacobian_compact(z).shape == (4, 8)
    j = gru.jacobian(z)
    torch.testing.assert_close(j, torch.diag_embed(torch.diagonal(j, dim1=1, dim2=2)))
    lstm = DiagLSTM(2, 8).double()
    assert lstm.jacobian_compact(z).shape == (4, 2, 2, 4)
    j = lstm.jacobian(z)
    mask = torch.eye(4, dtype=torch.bool).repeat(2, 2)  # each 4×4 block is diagonal
    assert bool((j[:, ~mask] == 0).all()) and bool((j[:, mask] != 0).all())
    # the dense cells are genuinely dense
    assert bool((GRU(2, 8).double().jacobian(z)[:, ~torch.eye(8, dtype=torch.bool)] != 0).any())


def test_registry_names_and_free_run():
    for name, cls in [("gru", GRU), ("lstm", LSTM), ("diaggru", DiagGRU), ("diaglstm", DiagLSTM)]:
        model = create(name, 3, latent_dim=8)
        assert isinstance(model, cls) and model.kind == name
        out = model.simulate(torch.zeros(2, 3), 20)
        assert out.shape == (2, 20, 3) and bool(torch.isfinite(out).all())
        # GRU/LSTM states stay bounded by construction
        assert float(model.simulate(z0=torch.full((1, 8), 0.5), steps=200).abs().max()) <= 1.0


def test_driven_by_inputs():
    torch.manual_seed(4)
    model = DiagGRU(1, 6, n_inputs=2)
    z = torch.zeros(3, 6)
    s1, s2 = torch.zeros(3, 2), torch.ones(3, 2)
    assert not torch.allclose(model.step(z, s1), model.step(z, s2))
    assert model.config() == {"obs_dim": 1, "latent_dim": 6, "n_inputs": 2}


def test_lstm_needs_an_even_latent_size_of_at_least_twice_the_data():
    with pytest.raises(ConfigError, match="even"):
        LSTM(2, 7)
    with pytest.raises(ConfigError, match="even"):
        create("diaglstm", 3, latent_dim=4)


def _diag_as_dense(diag: DiagGRU) -> GRU:
    """The dense GRU whose recurrent matrices are diag(w_r), diag(w_u), diag(w_n)."""
    dense = GRU(diag.obs_dim, diag.latent_dim, n_inputs=diag.n_inputs).double()
    with torch.no_grad():
        m = diag.latent_dim
        dense.W.copy_(torch.cat([torch.diag(w) for w in diag.W.view(3, m)]))
        dense.b.copy_(diag.b)
        dense.c_n.copy_(diag.c_n)
        if diag.U is not None:
            dense.U.copy_(diag.U)
    return dense


@pytest.mark.parametrize("n_inputs", [0, 3])
def test_diag_gru_equals_the_dense_gru_with_diagonal_weights(n_inputs):
    torch.manual_seed(5)
    model = DiagGRU(2, 7, n_inputs=n_inputs).double()
    dense = _diag_as_dense(model)
    z = torch.randn(9, 7, dtype=torch.float64)
    s = torch.randn(9, n_inputs, dtype=torch.float64) if n_inputs else None
    torch.testing.assert_close(model.step(z, s), dense.step(z, s), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(
        torch.diag_embed(model.jacobian_compact(z, s)), dense.jacobian(z, s), rtol=1e-13, atol=1e-14
    )
    # out= (as Newton calls it, without gradients): the Jacobian is written into the buffer
    buf = torch.full((9, 7), float("nan"), dtype=torch.float64)
    with torch.no_grad():
        _, jac = model.step_and_jacobian(z, s, out=buf)
    assert jac is buf
    torch.testing.assert_close(buf, model.jacobian_compact(z, s))


@pytest.mark.parametrize("n_inputs", [0, 3])
def test_diag_gru_param_vjp_equals_autograd(n_inputs):
    torch.manual_seed(6)
    model = DiagGRU(2, 7, n_inputs=n_inputs).double()
    z = torch.randn(11, 7, dtype=torch.float64) * 1.3
    s = torch.randn(11, n_inputs, dtype=torch.float64) if n_inputs else None
    g = torch.randn(11, 7, dtype=torch.float64)
    names = [n for n, _ in model.named_parameters() if n != "L"]  # L only enters encode()
    params = [dict(model.named_parameters())[n] for n in names]
    ref = torch.autograd.grad(model.step(z, s), params, g)
    got = model.param_vjp(z, s, g)
    assert set(got) == set(names)
    for n, r in zip(names, ref, strict=True):
        torch.testing.assert_close(got[n], r, rtol=1e-12, atol=1e-13)
