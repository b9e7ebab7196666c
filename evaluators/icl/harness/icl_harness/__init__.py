"""The in-sandbox half of the icl suite: what an agent may import (PYTHONPATH=/harness).

Only code and file formats: no data set is loaded here. The host writes the
training pool and the episodes into /scratch and keeps every query label.
"""

from .args import parse
from .io import load_episodes, save_episodes, save_logits
from .meter import METER, ComputeMeter
from .sampler import TaskSampler
from .taskgen import N_SLOTS, PROJ_DIM, Pool, Tasks

__all__ = ["METER", "N_SLOTS", "PROJ_DIM", "ComputeMeter", "Pool", "TaskSampler", "Tasks",
           "load_episodes", "parse", "save_episodes", "save_logits"]
