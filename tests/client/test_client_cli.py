"""The command line against the local stand-in of the API: output, messages and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from client.cli import format_probability, format_table, main
from core.api_contract import MODEL_ERROR, PAYLOAD_TOO_LARGE, THROTTLED

REPO = Path(__file__).resolve().parents[2]


def run(capsys, *argv: object) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- Success ------------------------------------------------------------------------------------
def test_prediction_is_printed_as_a_top_k_table(fake_api, make_image, capsys):
    path = make_image("dog.jpg")

    status, out, _ = run(capsys, "predict", path, "--url", fake_api.stage_url, "--top-k", "3")

    assert status == 0
    assert out == (
        f"{path}  (model sha256-abc123)\n"
        "  #  breed           probability\n"
        "  1  Siberian husky        93.1%\n"
        "  2  malamute               4.2%\n"
        "  3  Eskimo dog             1.5%\n"
    )


def test_top_k_is_sent_to_the_api(fake_api, make_image, capsys):
    run(capsys, "predict", make_image("dog.jpg"), "--url", fake_api.stage_url, "--top-k", "2")

    assert fake_api.requests[0].top_k == 2


def test_json_prints_one_object_per_image(fake_api, make_image, capsys):
    paths = [make_image("a.jpg"), make_image("b.png")]

    status, out, _ = run(capsys, "predict", *paths, "--url", fake_api.stage_url, "--json")

    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [line["file"] for line in lines] == [str(path) for path in paths]
    assert lines[0]["model"] == "sha256-abc123"
    assert lines[0]["predictions"][0]["breed"] == "Siberian husky"


def test_tables_of_several_images_are_separated_by_a_blank_line(fake_api, make_image, capsys):
    paths = [make_image("a.jpg"), make_image("b.jpg")]

    _, out, _ = run(capsys, "predict", *paths, "--url", fake_api.stage_url, "--top-k", "1")

    assert out.split("\n\n")[1].startswith(f"{paths[1]}  (model")


def test_progress_is_shown_on_stderr_for_several_images(fake_api, make_image, capsys):
    paths = [make_image("a.jpg"), make_image("b.jpg")]

    _, _, err = run(capsys, "predict", *paths, "--url", fake_api.stage_url)

    assert err.splitlines() == [f"[1/2] {paths[0]}", f"[2/2] {paths[1]}", "all 2 classified"]


def test_single_image_shows_no_progress(fake_api, make_image, capsys):
    _, _, err = run(capsys, "predict", make_image("dog.jpg"), "--url", fake_api.stage_url)

    assert err == ""


def test_resizing_is_reported_on_stderr(fake_api, make_image, capsys):
    path = make_image("wide.jpg", size=(2100, 64))

    status, _, err = run(capsys, "predict", path, "--url", fake_api.stage_url)

    assert status == 0
    assert f"{path}: 2100x64 JPEG, " in err
    assert " -> 1024x31 JPEG, " in err


def test_url_and_api_key_come_from_the_environment(fake_api, make_image, capsys, monkeypatch):
    fake_api.api_key = "env-key"
    monkeypatch.setenv("DOG_BREEDS_API_URL", fake_api.stage_url)
    monkeypatch.setenv("DOG_BREEDS_API_KEY", "env-key")

    status, _, _ = run(capsys, "predict", make_image("dog.jpg"))

    assert status == 0
    assert fake_api.requests[0].headers["x-api-key"] == "env-key"


def test_flags_win_over_the_environment(fake_api, make_image, capsys, monkeypatch):
    fake_api.api_key = "flag-key"
    monkeypatch.setenv("DOG_BREEDS_API_URL", fake_api.stage_url.replace("/prod/", "/dev/"))
    monkeypatch.setenv("DOG_BREEDS_API_KEY", "env-key")

    path = make_image("dog.jpg")

    status, _, _ = run(capsys, "predict", path, "--url", fake_api.predict_url, "--api-key", "flag-key")

    assert status == 0
    assert fake_api.requests[0].headers["x-api-key"] == "flag-key"


def test_throttled_request_is_retried_and_succeeds(fake_api, make_image, capsys):
    fake_api.queue_error(THROTTLED, "Too many requests", {"Retry-After": "0"})
    path = make_image("dog.jpg")

    status, out, err = run(capsys, "predict", path, "--url", fake_api.stage_url)

    assert status == 0
    assert len(fake_api.requests) == 2
    assert "Siberian husky" in out
    assert f"{path}: 429 TooManyRequests: Too many requests. " in err
    assert "retrying in 0 s (1/3)" in err


# --- Failures -----------------------------------------------------------------------------------
def test_api_error_is_one_line_on_stderr_and_exit_status_1(fake_api, make_image, capsys):
    fake_api.queue_error(PAYLOAD_TOO_LARGE, "The image has 5000000 bytes")
    path = make_image("dog.jpg")

    status, out, err = run(capsys, "predict", path, "--url", fake_api.stage_url)

    assert status == 1
    assert out == ""
    assert err.startswith(f"error: {path}: 413 PayloadTooLarge: The image has 5000000 bytes. ")
    assert err.splitlines()[1:] == ["1 of 1 failed"]


def test_rejected_api_key_tells_how_to_pass_one(fake_api, make_image, capsys):
    fake_api.api_key = "right-key"
    path = make_image("dog.jpg")

    status, _, err = run(capsys, "predict", path, "--url", fake_api.stage_url)

    assert status == 1
    assert err.startswith(
        f"error: {path}: 403 Forbidden: the API rejected the API key: "
        "pass --api-key or set DOG_BREEDS_API_KEY"
    )


def test_rejected_api_key_stops_before_the_other_images(fake_api, make_image, capsys):
    fake_api.api_key = "right-key"
    paths = [make_image("a.jpg"), make_image("b.jpg"), make_image("c.jpg")]

    status, _, err = run(capsys, "predict", *paths, "--url", fake_api.stage_url)

    assert status == 1
    assert len(fake_api.requests) == 1
    assert "error: not sending the other 2 image(s): they would fail the same way" in err


def test_failed_image_does_not_stop_the_others(fake_api, make_image, capsys, tmp_path):
    fake_api.queue_error(MODEL_ERROR, "The model failed")
    paths = [make_image("a.jpg"), tmp_path / "missing.jpg", make_image("c.jpg")]

    status, out, err = run(capsys, "predict", *paths, "--url", fake_api.stage_url)

    assert status == 1
    assert f"error: {paths[0]}: 502 ModelError: The model failed. " in err
    assert f"error: {paths[1]}: no such file\n" in err
    assert out.startswith(f"{paths[2]}  (model sha256-abc123)")


def test_summary_counts_the_failures_and_the_exit_status_is_1(fake_api, make_image, capsys, tmp_path):
    paths = [make_image("a.jpg"), tmp_path / "missing.jpg", make_image("c.jpg")]

    status, _, err = run(capsys, "predict", *paths, "--url", fake_api.stage_url)

    assert status == 1
    assert err.splitlines()[-1] == "1 of 3 failed"


def test_summary_counts_images_not_sent_after_a_rejected_key(fake_api, make_image, capsys):
    fake_api.api_key = "right-key"
    paths = [make_image("a.jpg"), make_image("b.jpg"), make_image("c.jpg")]

    status, _, err = run(capsys, "predict", *paths, "--url", fake_api.stage_url)

    assert status == 1
    assert err.splitlines()[-1] == "3 of 3 failed"


# --- Folders ------------------------------------------------------------------------------------
def test_folder_is_expanded_into_its_images_sorted_and_recursively(fake_api, make_image, capsys, tmp_path):
    (tmp_path / "breed").mkdir()
    (tmp_path / ".hidden").mkdir()
    paths = [
        make_image("b.PNG"),
        make_image("a.jpg"),
        make_image("breed/c.jpeg"),
        make_image(".hidden/d.jpg"),
    ]
    (tmp_path / "notes.txt").write_text("not an image")

    status, out, _ = run(capsys, "predict", tmp_path, "--url", fake_api.stage_url, "--json")

    assert status == 0
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(p) for p in sorted(paths[:3])]
    assert len(fake_api.requests) == 3


def test_folder_and_files_mix_in_the_order_given(fake_api, make_image, capsys, tmp_path):
    (tmp_path / "folder").mkdir()
    inside, outside = make_image("folder/a.jpg"), make_image("z.jpg")

    _, out, _ = run(capsys, "predict", outside, tmp_path / "folder", "--url", fake_api.stage_url, "--json")

    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(outside), str(inside)]


def test_folder_without_images_is_a_usage_error(fake_api, capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")

    status, _, err = run(capsys, "predict", tmp_path, "--url", fake_api.stage_url)

    assert status == 2
    assert f"error: {tmp_path}: the folder holds no images (.jpg, .jpeg, .png," in err
    assert fake_api.requests == []


def test_json_reports_a_failed_image_as_an_error_object(fake_api, capsys, tmp_path):
    path = tmp_path / "missing.jpg"

    status, out, _ = run(capsys, "predict", path, "--url", fake_api.stage_url, "--json")

    assert status == 1
    assert json.loads(out) == {
        "file": str(path),
        "error": {"status": None, "code": "ImageError", "message": "no such file"},
    }


def test_image_error_prints_no_traceback(fake_api, tmp_path, capsys):
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo")

    status, _, err = run(capsys, "predict", path, "--url", fake_api.stage_url)

    assert status == 1
    assert err.startswith(f"error: {path}: not an image Pillow can read: send a JPEG, PNG")
    assert err.splitlines()[1:] == ["1 of 1 failed"]


def test_unreachable_api_is_one_line_naming_the_url(make_image, capsys, unreachable_url):
    path = make_image("dog.jpg")

    status, _, err = run(capsys, "predict", path, "--url", unreachable_url, "--timeout", "2")

    assert status == 1
    assert err.startswith(f"error: {path}: ConnectionError: cannot reach {unreachable_url}predict")
    assert err.splitlines()[1:] == ["1 of 1 failed"]


# --- Usage --------------------------------------------------------------------------------------
def test_missing_api_key_is_refused_saying_how_to_get_one(fake_api, make_image, capsys, monkeypatch):
    monkeypatch.delenv("DOG_BREEDS_API_KEY")

    status, _, err = run(capsys, "predict", make_image("dog.jpg"), "--url", fake_api.stage_url)

    assert status == 2
    assert fake_api.requests == []
    message = err.splitlines()[-1]
    assert message.startswith("python -m client predict: error: no API key: pass --api-key or set ")
    assert "aws apigateway get-api-key --api-key <ApiKeyId> --include-value" in message
    assert "the ApiKey line that scripts/local prints" in message


def test_empty_api_key_counts_as_none(fake_api, make_image, capsys, monkeypatch):
    monkeypatch.setenv("DOG_BREEDS_API_KEY", "")

    status, _, err = run(capsys, "predict", make_image("dog.jpg"), "--url", fake_api.stage_url)

    assert status == 2
    assert "error: no API key" in err


def test_no_api_key_flag_sends_without_a_key(fake_api, make_image, capsys, monkeypatch):
    monkeypatch.delenv("DOG_BREEDS_API_KEY")

    status, _, _ = run(capsys, "predict", make_image("dog.jpg"), "--url", fake_api.stage_url, "--no-api-key")

    assert status == 0
    assert "x-api-key" not in fake_api.requests[0].headers


def test_no_api_key_flag_with_a_key_is_a_usage_error(fake_api, make_image, capsys):
    status, _, err = run(
        capsys, "predict", make_image("dog.jpg"), "--url", fake_api.stage_url, "--no-api-key"
    )

    assert status == 2
    assert "error: --no-api-key and an API key (--api-key or $DOG_BREEDS_API_KEY) contradict" in err


def test_missing_url_is_a_usage_error(make_image, capsys):
    status, _, err = run(capsys, "predict", make_image("dog.jpg"))

    assert status == 2
    assert "error: no API URL: pass --url or set DOG_BREEDS_API_URL" in err


def test_url_that_is_not_http_is_a_usage_error(make_image, capsys):
    status, _, err = run(capsys, "predict", make_image("dog.jpg"), "--url", "example.com/prod")

    assert status == 2
    assert "--url: not an http(s) URL: 'example.com/prod'" in err


@pytest.mark.parametrize(("flag", "value"), [("--top-k", "0"), ("--timeout", "-1")])
def test_non_positive_numbers_are_usage_errors(fake_api, make_image, capsys, flag, value):
    path = make_image("dog.jpg")

    status, _, err = run(capsys, "predict", path, "--url", fake_api.stage_url, flag, value)

    assert status == 2
    assert f"argument {flag}" in err


def test_no_command_is_a_usage_error(capsys):
    status, _, err = run(capsys)

    assert status == 2
    assert "usage: python -m client" in err


def test_help_lists_the_predict_options(capsys):
    status, out, _ = run(capsys, "predict", "--help")

    assert status == 0
    for option in ("--url", "--api-key", "--top-k", "--json", "--timeout"):
        assert option in out


def test_module_entry_point_prints_help():
    completed = subprocess.run(
        [sys.executable, "-m", "client", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )

    assert completed.returncode == 0
    assert "predict" in completed.stdout


# --- Formatting ---------------------------------------------------------------------------------
def test_table_columns_fit_the_longest_breed():
    result = {
        "predictions": [
            {"breed": "American Staffordshire terrier", "probability": 0.5},
            {"breed": "pug", "probability": 0.25},
        ],
        "model": "v1",
    }

    assert format_table("dog.jpg", result).splitlines() == [
        "dog.jpg  (model v1)",
        "  #  breed                           probability",
        "  1  American Staffordshire terrier        50.0%",
        "  2  pug                                   25.0%",
    ]


@pytest.mark.parametrize(
    ("probability", "text"), [(0.931, "93.1%"), (1.0, "100.0%"), (0.0001, "<0.1%"), (0.0, "0.0%")]
)
def test_probability_is_a_percentage_with_one_decimal(probability, text):
    assert format_probability(probability) == text
