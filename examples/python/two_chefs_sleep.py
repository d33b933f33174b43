# Two chefs, one kitchen: time.sleep holds the whole program, so the second order waits for the
# first and the run takes about 4 s. Compare with two_chefs_gather.py (about 2 s).
import time


def fetch_data(source):
    print(f"Fetching from {source}...")
    time.sleep(2)  # blocks everything: nothing else can run meanwhile
    print(f"Got data from {source}")
    return {"source": source}


def main():
    results = [fetch_data("Weather API"), fetch_data("News API")]
    print(f"Done: {len(results)} results")


if __name__ == "__main__":
    main()
