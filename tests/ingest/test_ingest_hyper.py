"""Stated values: prose patterns, LaTeX math, tables, and what must not count."""

from __future__ import annotations

from deepcode_tui.ingest.hyper import detex, find_hyperparameters, hyperparameters_from_table
from deepcode_tui.ingest.markdown import parse_markdown


def _hp(text: str) -> set[tuple[str, str]]:
    return {(h.name, h.value) for h in find_hyperparameters(text)}


def test_prose_forms():
    got = _hp(
        "We train with a learning rate of 0.001 and a batch size of 128 for 50 epochs. "
        "The discount factor γ is set to 0.99. We use 3 hidden layers with 256 hidden units. "
        "The KL coefficient was 0.05, the number of negative samples is 16 and temperature 0.7 is used. "
        'The "IntCoef" hyperparameter is set to 1.0 and warmup_steps = 4000.'
    )
    for pair in [
        ("learning rate", "0.001"),
        ("batch size", "128"),
        ("epochs", "50"),
        ("discount factor", "0.99"),
        ("γ", "0.99"),
        ("hidden layers", "3"),
        ("hidden units", "256"),
        ("KL coefficient", "0.05"),
        ("number of negative samples", "16"),
        ("temperature", "0.7"),
        ("IntCoef", "1.0"),
        ("warmup_steps", "4000"),
    ]:
        assert pair in got, pair


def test_lists_and_respectively():
    got = _hp(
        "We varied the batch size B = 2, 5, 10 and 20. Adam with β1 and β2 set to 0.9 and 0.95, respectively."
    )
    assert {("B", "2"), ("B", "5"), ("B", "10"), ("B", "20")} <= got
    assert {("β1", "0.9"), ("β2", "0.95")} <= got
    assert _hp("The learning rate and batch size are set to 1e-4 and 32, respectively.") == {
        ("learning rate", "1e-4"),
        ("batch size", "32"),
    }


def test_latex_math_reads_like_pdf_text():
    assert detex(r"$\beta _ { 1 } = 0 . 9$").split() == ["β1", "=", "0.9"]
    got = _hp(r"We use a learning rate of $10^{-4}$ and $\lambda = 0.4$ with $\epsilon=10^{-8}$.")
    assert {("learning rate", "1e-4"), ("λ", "0.4"), ("ϵ", "1e-8")} <= got
    h = find_hyperparameters("the loss uses 100K steps")[0]
    assert (h.name, h.value, h.unit, h.source) == ("steps", "100K", "steps", "prose")


def test_not_values():
    for text in [
        "for i = 1 to n do",
        "where m_i = 1 and x = 0 for every token",
        "Our method improves accuracy by 3.2 points over the baseline (Smith et al., 2020).",
        "As shown in Table 3 and Section 4.2, the results hold in 2021.",
        "Each of the n = 1, ..., 5 layers is shown.",
        "The patch size 2^l depends on the depth.",
        "We repeat the experiment for 10 , 000 iterations.",
    ]:
        bad = {p for p in _hp(text) if p[1] in ("1", "0", "3.2", "3", "4.2", "2021", "5", "2", "000")}
        assert not bad, (text, bad)


def test_tables_by_rows_by_header_and_not_results():
    rows = [
        ["Hyperparameter", "Value"],
        ["Learning rate", "3e-4"],
        ["Discount factor, γ", "0.99"],
        ["Optimizer", "Adam"],
    ]
    got = {(h.name, h.value) for h in hyperparameters_from_table(rows, caption="Table 4: Hyperparameters.")}
    assert got == {("Learning rate", "3e-4"), ("Discount factor, γ", "0.99")}
    header = [["lr", "batch size", "epochs"], ["1e-4", "32", "10"]]
    got = {(h.name, h.value) for h in hyperparameters_from_table(header)}
    assert ("batch size", "32") in got and ("epochs", "10") in got
    results = [["Method", "Acc", "F1"], ["ResNet18", "71.2", "0.70"], ["ViT-B", "80.1", "0.78"]]
    assert hyperparameters_from_table(results) == []
    datasets = [["Dataset", "Train size", "Classes"], ["CIFAR10", "50000", "10"], ["DTD", "2820", "47"]]
    assert hyperparameters_from_table(datasets) == []
    packed = [["adam_beta1 adam_beta2", "0.9 0.999"], ["adam_eps", "1e-8"]]
    got = {(h.name, h.value) for h in hyperparameters_from_table(packed, caption="Hyperparameters")}
    assert got == {("adam_beta1", "0.9"), ("adam_beta2", "0.999"), ("adam_eps", "1e-8")}


def test_markdown_html_table_with_caption():
    md = (
        "# 1 Setup\n\nTable 2: Training hyperparameters.\n\n"
        "<table><tr><td>Parameter</td><td>Value</td></tr><tr><td>Batch size</td><td>256</td></tr>"
        "<tr><td>Learning rate</td><td>5e-4</td></tr></table>\n\nMore text.\n"
    )
    elements, _ = parse_markdown(md)
    (table,) = [e for e in elements if e.kind == "table"]
    assert table.caption.startswith("Table 2") and "Batch size | 256" in table.text


def test_prose_as_link_aside_and_bulleted_settings():
    got = _hp(
        "We set the maximum length as 512 and the temperature as 1.0. "
        "A linear warmup to the peak LR (attained at 7% of total training steps) of 1e-5 is used."
    )
    assert {("temperature", "1.0"), ("peak LR", "1e-5")} <= got
    got = _hp("• Dim (channels): 256 • Resnet block groups: 8 • Random Fourier Features: False")
    assert ("Resnet block groups", "8") in got
    # a colon after a sentence word is not a bulleted setting
    assert not _hp("Results: 3 of 5 runs converged.")


def test_settings_table_with_group_column_and_packed_header():
    # A rowspan group label ("COMMON") in the first column: the name is the cell before the value.
    rows = [
        ["", "PARAMETER", "VALUE"],
        ["COMMON", "OPTIMIZER", "Adam"],
        ["COMMON", "DISCOUNT RATE (γ)", "0.99"],
        ["COMMON", "MIN STD.", "e-20"],
        ["SAC", "BATCH SIZE", "128"],
    ]
    got = {(h.name, h.value) for h in hyperparameters_from_table(rows, caption="Table E.1: Hyperparameters")}
    assert got == {("DISCOUNT RATE (γ)", "0.99"), ("BATCH SIZE", "128")}
    # A converter packed the header's names into one cell after empty ones.
    rows = [
        ["", "", "", "LoRA Dropout # Epochs Learning Rate Weight Decay", "Optimizer"],
        ["0.1", "3", "2e-4", "0.001", "AdamW"],
    ]
    got = {(h.name, h.value) for h in hyperparameters_from_table(rows)}
    assert got == {
        ("LoRA Dropout", "0.1"),
        ("# Epochs", "3"),
        ("Learning Rate", "2e-4"),
        ("Weight Decay", "0.001"),
    }


def test_markdown_rowspan_and_lettered_caption():
    md = (
        "# 1 Setup\n\nTable E.1: Hyperparameters of the agent.\n\n"
        '<table><tr><td></td><td>PARAMETER</td><td>VALUE</td></tr><tr><td rowspan="2">COMMON</td>'
        "<td>learning rate</td><td>3e-4</td></tr><tr><td>discount rate</td><td>0.99</td></tr></table>\n"
    )
    elements, _ = parse_markdown(md)
    table = next(e for e in elements if e.kind == "table")
    assert table.caption.startswith("Table E.1")
    assert table.text.splitlines()[1:] == ["COMMON | learning rate | 3e-4", "COMMON | discount rate | 0.99"]


def test_plural_heads_lists_and_spaced_thousands():
    got = _hp("We consider simulation budgets of 1000, 10000 and 100000.")
    assert got == {
        ("simulation budgets", "1000"),
        ("simulation budgets", "10000"),
        ("simulation budgets", "100000"),
    }
    # a converter's "6 , 000" is one number, not 6 and 000
    got = _hp(
        "We set the batch size as 64 , and the number of training steps as 6 , 000 for default settings."
    )
    assert ("number of training steps", "6000") in got
    assert not {p for p in got if p[1] in ("6", "000")}
    # a year-like number that counts something is a value; a bare year is not
    assert ("length", "2000") in _hp("Online evaluation is performed with a length of 2000 timesteps.")
    assert not _hp("The dataset was released in 2019 with a size of 2020.")


def test_symbol_in_parentheses_names_the_noun_before_it():
    got = _hp(r"targets with normal tails ( $t = 1$ ) but varying skew ( $s =$ 0.2, 1.0, 1.8).")
    assert got == {("normal tails (t)", "1"), ("skew (s)", "0.2"), ("skew (s)", "1.0"), ("skew (s)", "1.8")}
    # "batch size B = 64": the trailing symbol is the name's, the head word still decides
    assert {("batch size", "64"), ("B", "64")} <= _hp("Inputs: learning rate η, batch size B = 64, steps T")
    # index variables of a formula are not settings
    assert not {
        p
        for p in _hp("evaluated at time (t = 0) for every position (i = 1)")
        if p[0].startswith(("time", "position"))
    }


def test_search_grids_and_descriptions():
    got = _hp("The learning rate is selected from {0.1, 0.01, 0.001}.")
    assert got == {("learning rate", "0.1"), ("learning rate", "0.01"), ("learning rate", "0.001")}
    assert _hp("We sweep the weight decay over [1e-5, 1e-3].") == {
        ("weight decay", "1e-5"),
        ("weight decay", "1e-3"),
    }
    assert not _hp("as discussed for the batch size in [12, 13]")  # citations, not a range
    # a point in time or a regime described is not a setting
    assert not _hp("After 100 K steps, the model assigns high probability to the action.")
    assert not {p for p in _hp("it was developed for relatively small batch sizes ≈ 100.") if "small" in p[0]}


def test_degrees_of_freedom_and_being_lists():
    got = _hp(
        r"the 24-DoF Shadow Hand; an Allegro Hand ( $1 6 \mathrm { D o F } )$ mounted on a Kuka arm (7 dof)."
    )
    assert got == {("Shadow Hand DoF", "24"), ("Allegro Hand DoF", "16"), ("Kuka arm DoF", "7")}
    assert _hp("the same task but with the 16-DoF Allegro Hand instead.") == {("Allegro Hand DoF", "16")}
    # the sentence's words before "degrees of freedom" are not a body
    assert _hp("a hand of 16 degrees of freedom on a Kuka arm") == {("hand DoF", "16")}
    got = _hp(
        "three convolutional layers with 32, 64, and 64 channels, with filter sizes being 8, 4, and 3 respectively."
    )
    assert {("filter sizes", "8"), ("filter sizes", "4"), ("filter sizes", "3")} <= got


def test_symbol_conditions_plot_parts_and_nested_tex():
    assert _hp(r"the variant with coefficient $5 \mathrm { { e } - 3 }$ performs better") == {
        ("coefficient", "5e-3")
    }
    assert not _hp("the middle is the model sample of Xt = 1 obtained by integrating the ODE")
    got = _hp("Solid curves ( B = 32 ) correspond to larger batch sizes than dashed curves ( B = 8 ).")
    assert not {p for p in got if "curves" in p[0]}


def test_adam_betas_by_convention():
    got = _hp("We use AdamW(β1=0.9, β2=0.95) for the policy and Adam (0.9,0.999) for the critic.")
    assert {
        ("β1 (AdamW)", "0.9"),
        ("β2 (AdamW)", "0.95"),
        ("β1 (Adam)", "0.9"),
        ("β2 (Adam)", "0.999"),
    } <= got
    rows = [["", "DESCRIPTION", "VALUE"], ["COMMON", "OPTIMIZER", "Adam (0.9,0.999)"]]
    got = {(h.name, h.value) for h in hyperparameters_from_table(rows, caption="Table 5: Hyperparameters")}
    assert got == {("β1 (Adam)", "0.9"), ("β2 (Adam)", "0.999")}


def test_table_of_entities_by_symbols_its_caption_defines():
    cap = (
        r"Table 9. Training settings (where $^ { b }$ , $\alpha$ and $\gamma$ denote batch size, "
        "initial learning rate and learning rate decay, respectively)"
    )
    rows = [
        ["", "", "", "5-LAYER", "", "6-LAYER"],
        ["", "b", "MILESTONES", "α", "2", "α"],
        ["CIFAR10", "256", "[0,100,145]", "0.01", "0.1", "0.001"],
        ["DTD", "64", "[0,100,145]", "0.01", "0.1", "0.001"],
    ]
    got = {(h.name, h.value) for h in hyperparameters_from_table(rows, caption=cap)}
    assert got == {
        ("b (batch size)", "256"),
        ("b (batch size)", "64"),
        ("α (initial learning rate)", "0.01"),
        ("α (initial learning rate)", "0.001"),
    }
    # without the caption's definitions a table of datasets is not a settings table
    assert hyperparameters_from_table(rows, caption="Table 9. Results per dataset") == []


def test_time_points_and_sums_are_not_settings():
    assert not _hp("The BC version starts to diverge at around 20M steps when the agent enters Room 7.")
    assert not {p for p in _hp("The total number of packages is 3 + 10 + 8 = 21.") if p[1] == "3"}
    assert ("steps", "20M") in _hp("We fine-tune for 20M steps.")


def test_with_a_probability_or_chance():
    got = _hp(
        "Given a random state, we utilize this state as the goal with a 0.2 chance, a future state "
        "within the trajectory with a 0.5 chance, and a completely random state with a 0.3 chance."
    )
    assert got == {
        ("goal probability", "0.2"),
        ("trajectory probability", "0.5"),
        ("completely random state probability", "0.3"),
    }
    assert ("random action probability", "0.05") in _hp("We take a random action with probability 0.05.")
    assert not _hp("The bound holds with probability 0.9 for every n.")  # a claim, not a setting
