"""Engine smoke cases through the oracle: broadcasting binary ops, reductions, matmul."""

import pytest

from oracle import OpCase, case_params, check_case

CASES = [
    OpCase("add", lambda lib, a, b: a + b, [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (2, 3)),
                                            ((0, 3), (3,))]),
    OpCase("mul", lambda lib, a, b: a * b, [((3, 4), (3, 1)), ((), ())]),
    OpCase("div", lambda lib, a, b: a / b, [((3, 4), (4,))], domain=(0.5, 2.0)),
    OpCase("matmul", lambda lib, a, b: a @ b, [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                                               ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                               ((2, 1, 3, 4), (5, 4, 2))]),
    OpCase("exp_sum", lambda lib, x: x.exp().sum(1), [((3, 4),)]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def test_broadcast_error_names_the_op_and_both_shapes():
    import deepgrad

    with pytest.raises(RuntimeError, match=r"add: .*\(2, 3\).*\(4,\)"):
        deepgrad.ones(2, 3, requires_grad=True) + deepgrad.ones(4)
