"""Training-side code: the Stanford Dogs class list today; data preparation and the training CLI later."""
