"""What the smoke test accepts as a well-formed prediction."""

from smoke_fakes import prediction

from smoke.checks import prediction_problems


def problems(result, top_k=5):
    return prediction_problems(result, model_version="job-1", top_k=top_k)


def test_well_formed_prediction_has_no_problem():
    assert problems(prediction()) == []


def test_predictions_out_of_order_are_a_problem():
    assert problems(prediction([0.1, 0.2, 0.3, 0.05, 0.03])) == [
        "predictions are not ordered from most to least probable"
    ]


def test_probabilities_adding_up_to_more_than_1_are_a_problem():
    assert problems(prediction([0.5, 0.5, 0.5, 0.05, 0.03])) == [
        "probabilities add up to 1.580000, more than 1"
    ]


def test_a_repeated_class_is_a_problem():
    result = prediction()
    result["predictions"][1]["classId"] = 0
    assert problems(result) == ["a class appears twice: [0, 0, 2, 3, 4]"]


def test_a_breed_without_a_name_is_a_problem():
    result = prediction()
    result["predictions"][2]["breed"] = " "
    assert problems(result) == ["prediction 3: breed is not a name: ' '"]


def test_a_probability_that_is_not_a_number_is_a_problem():
    result = prediction()
    result["predictions"][0]["probability"] = "0.6"
    assert problems(result) == ["prediction 1: probability is not a number: '0.6'"]


def test_missing_predictions_are_a_problem():
    assert problems({"model": "job-1"}) == ["predictions is not a list: None"]


def test_top_k_sets_how_many_predictions_are_expected():
    assert problems(prediction([0.7, 0.2, 0.1]), top_k=3) == []
