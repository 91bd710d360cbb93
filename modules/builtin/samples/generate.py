"""How the generated sample datasets were made: `python -m modules.builtin.samples.generate`.

Run once; the CSV files it writes beside this file are what ships (Import Data never runs
this). Both tables are synthetic, written for Atelier, with fixed seeds:

- `product-reviews.csv`: short product reviews with their sentiment, assembled at random
  from the hand-written phrase lists below; about 5% of the labels are flipped, and some
  reviews mix praise and complaint, so that a classifier cannot be perfect.
- `movie-ratings.csv`: ratings of 1 to 5 stars that users gave films, from a model of two
  hidden tastes per user and film plus each user's generosity; each user rated a random
  share of the films.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent

PRODUCTS = ["kettle", "headphones", "backpack", "lamp", "blender", "keyboard", "tent", "jacket", "phone case", "chair"]
PRAISE = [
    "works perfectly", "is excellent value", "exceeded my expectations", "feels solid and well made",
    "is comfortable to use every day", "arrived quickly and works great", "is the best purchase I made this year",
    "looks beautiful", "is easy to set up", "does exactly what it promises", "is very reliable",
    "has great battery life", "is sturdy and light", "is quiet and fast",
]
COMPLAINTS = [
    "stopped working after a week", "is a waste of money", "feels cheap and flimsy", "broke on the first day",
    "is uncomfortable", "arrived damaged", "is the worst purchase I made this year", "looks nothing like the photos",
    "is hard to set up", "does not do what it promises", "is very unreliable", "has terrible battery life",
    "is heavy and fragile", "is loud and slow",
]
OPENERS_GOOD = ["Love it.", "Highly recommended!", "Five stars.", "Really happy.", "Great buy.", ""]
OPENERS_BAD = ["Avoid.", "Very disappointed.", "One star.", "Returned it.", "Not happy.", ""]
BUT = ["but", "although", "even if", "though"]


def reviews(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(rows):
        positive = bool(rng.random() < 0.5)
        product = rng.choice(PRODUCTS)
        main, other = (PRAISE, COMPLAINTS) if positive else (COMPLAINTS, PRAISE)
        opener = rng.choice(OPENERS_GOOD if positive else OPENERS_BAD)
        text = f"{opener} The {product} {rng.choice(main)}"
        if rng.random() < 0.5:
            text += f" and {rng.choice(main)}"
        if rng.random() < 0.3:  # a mixed review: its other side, weaker
            text += f", {rng.choice(BUT)} it {rng.choice(other)}"
        texts.append(text.strip() + ".")
        flipped = rng.random() < 0.05
        labels.append("positive" if positive != flipped else "negative")
    return pd.DataFrame({"review": texts, "sentiment": labels})


FILMS = [
    "Arrival", "Amelie", "Alien", "Brazil", "Casablanca", "Chinatown", "Coco", "Drive", "Dune", "Fargo", "Gravity",
    "Heat", "Her", "Inception", "Jaws", "Joker", "Memento", "Metropolis", "Moonlight", "Nomadland", "Oldboy",
    "Parasite", "Psycho", "Ran", "Rocky", "Roma", "Se7en", "Up", "Vertigo", "Whiplash", "Wall-E", "Zodiac",
    "Annie Hall", "Blade Runner", "Taxi Driver", "The Matrix", "Spirited Away", "Toy Story", "Mad Max", "Paddington",
]


def ratings(users: int = 120, seen: float = 0.3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(users, 2)) @ rng.normal(size=(2, len(FILMS)))
    generosity = rng.normal(scale=0.5, size=(users, 1))
    quality = rng.normal(scale=0.5, size=(1, len(FILMS)))
    stars = np.clip(np.round(3.2 + generosity + quality + 0.8 * taste + rng.normal(scale=0.4, size=taste.shape)), 1, 5)
    user, film = np.nonzero(rng.random(taste.shape) < seen)
    return pd.DataFrame({
        "user": [f"user{u + 1:03d}" for u in user], "movie": [FILMS[f] for f in film], "rating": stars[user, film].astype(int),
    })


if __name__ == "__main__":
    reviews().to_csv(HERE / "product-reviews.csv", index=False)
    ratings().to_csv(HERE / "movie-ratings.csv", index=False)
