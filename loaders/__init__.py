"""The data room: the authors' export files -> validated rows -> a Hub-ready dataset folder."""
