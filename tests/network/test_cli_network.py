"""qproto network from the command line: limits named by their flags (issue 10)."""


def test_too_many_steps_are_refused_naming_the_step_flag(capsys):
    """Issue 10: a step so short that the day has 8.6e10 steps is refused before any work, naming
    --step (not the library's internal name), the value and the limit."""
    from qproto.cli import main

    assert main(["network", "run", "tokyo-mesh", "--step", "1e-6", "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("qproto: error: --step: step_s=1e-06") and "10,000,000" in err


def test_too_many_node_positions_are_refused_before_any_work(capsys):
    """Issue 10: the Tokyo mesh at 0.01 s steps for a day reached 16.7 GB of memory; now the
    nodes x steps budget (about 1 GiB) is checked first and the message gives the shortest step."""
    from qproto.cli import main

    assert main(["network", "run", "tokyo-mesh", "--step", "0.01", "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("qproto: error: --step: step_s=0.01") and "2,000,000" in err and "node positions" in err
