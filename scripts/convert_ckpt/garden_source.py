"""The TF2 Model Garden's ResNet-RS checkpoints (object-based `tf.train.Checkpoint` bundles).

Found through the checkpoint's object graph (tf2_object_graph.py), not through key strings: the
same model is saved under `backbone/...` by the trainer's checkpoint (base_trainer.py adds the
backbone as a root child), under `model/layer_with_weights-0/...` by a model-only checkpoint, and
under whatever root a user picks. We look for the one object that is a Model Garden ResNet-RS
backbone (stem layers, then blocks with _conv1.._conv3 and _squeeze_excitation) and the
ClassificationModel that holds it and the Dense head, then read each variable's checkpoint key
from its node (names: garden_mapping.py).

The EMA rule (docs/converter.md): the Model Garden evaluates with the EMA optimizer's averages
(ExponentialMovingAverage.swap_weights before eval, trainable_weights_only=False in
resnet_rs_imagenet, so BN statistics too). Those are the optimizer's 'average' slot variables of a
trainer checkpoint; we read them. A checkpoint written by the trainer's EMACheckpointing action
(`ema_checkpoints/average_weights-N`) was saved with the weights swapped: its model variables are
the averages. A model-only checkpoint has no optimizer: its model variables are used as they are.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Set, Tuple

import numpy as np

from . import garden_mapping as G
from . import resnetrs_mapping as M
from .sources import ConvertError, PlanItem, Source, _short_list
from .tf2_object_graph import OBJECT_GRAPH_KEY, Node, ObjectGraphError, parse_object_graph, paths_from_root
from .tf_bundle import BundleReader

EMA_SLOT = "average"
EMA_CHECKPOINT_PREFIX = "average_weights"  # actions.EMACheckpointing's checkpoint_name


def is_object_based(reader: BundleReader) -> bool:
    return OBJECT_GRAPH_KEY in reader


def _is_block(nodes: List[Node], i: int) -> bool:
    ch = nodes[i].children
    return all(c in ch for c in ("_conv1", "_conv2", "_conv3", "_norm1", "_norm2", "_norm3"))


class GardenSource(Source):
    kind = "tf2-garden"
    bn_epsilon = G.BN_EPSILON_GARDEN

    def __init__(self, reader: BundleReader, use_ema: bool = True, activation: Optional[str] = None):
        self.reader = reader
        self.prefix = reader.prefix
        self.use_ema = use_ema
        self.variant = dict(G.GARDEN_VARIANT)
        if activation is not None:
            self.variant["activation"] = activation
        self._avail = {e.name: (e.dtype, e.shape) for e in reader.entries()}
        where = reader.index_path
        try:
            raw = reader.read(OBJECT_GRAPH_KEY)
            self.nodes = parse_object_graph(bytes(raw.reshape(-1)[0]))
        except ObjectGraphError as e:
            raise ConvertError(f"{where}: the TF2 object graph ({OBJECT_GRAPH_KEY}) is unreadable: {e}") from None
        self.paths = paths_from_root(self.nodes)
        self._find_model()
        self._ema_mode = self._choose_values()

    # ---- structure ----------------------------------------------------------------------------
    def _fail(self, what: str) -> ConvertError:
        return ConvertError(f"{self.reader.index_path}: TF2 object-based checkpoint: {what}")

    def _find_model(self) -> None:
        nodes = self.nodes
        backbones = [i for i, n in enumerate(nodes) if i in self.paths
                     and (c := n.child(f"layer_with_weights-{G.STEM_LAYERS}")) is not None and _is_block(nodes, c)]
        if not backbones:
            raise self._fail("no Model Garden ResNet-RS backbone found (a functional model whose "
                             f"layer_with_weights-{G.STEM_LAYERS} is a BottleneckBlock with _conv1.._conv3). "
                             + M.SUPPORTED_FAMILIES)
        if len(backbones) > 1:
            raise self._fail(f"{len(backbones)} ResNet backbones found "
                             f"({', '.join(self.paths[b] or '<root>' for b in backbones)}); expected one")
        self.backbone = backbones[0]
        heads = [i for i, n in enumerate(nodes) if i in self.paths and n.child("layer_with_weights-0") == self.backbone
                 and (h := n.child(G.HEAD_LAYER)) is not None and {"kernel", "bias"} <= set(nodes[h].children)]
        if not heads:
            raise self._fail("the ResNet backbone has no classification head (no ClassificationModel whose "
                             f"{G.HEAD_LAYER} is a Dense layer): a backbone-only checkpoint cannot be converted")
        self.model = heads[0]
        bb = nodes[self.backbone]
        firsts: List[bool] = []
        k = G.STEM_LAYERS
        while (c := bb.child(f"layer_with_weights-{k}")) is not None and _is_block(nodes, c):
            ch = nodes[c].children
            if "_shortcut" in ch:
                raise self._fail(f"block {k - G.STEM_LAYERS} has a strided projection '_shortcut' "
                                 "(resnetd_shortcut=False): not a ResNet-RS backbone")
            if "_squeeze_excitation" not in ch:
                raise self._fail(f"block {k - G.STEM_LAYERS} has no squeeze-excitation (se_ratio unset): "
                                 "not a ResNet-RS backbone")
            firsts.append("_shortcut1" in ch)
            k += 1
        self.stage_blocks = G.stage_blocks_from_first_flags(firsts)
        if bb.child(f"layer_with_weights-{k}") is not None:
            raise self._fail(f"the backbone's layer_with_weights-{k} follows the last block but is not one")

    def detect_depth(self) -> int:
        d = M.depth_from_blocks(self.stage_blocks)
        if d is None:
            raise M.MappingError(f"{self.reader.index_path}: cannot detect the ResNet-RS depth: the Model Garden "
                                f"backbone has {self.stage_blocks} blocks per stage; expected one of "
                                + ", ".join(f"{list(b)}" for b in M.BLOCKS_PER_STAGE.values()))
        return d

    def _node_at(self, container: str, path: str) -> Tuple[Optional[int], str]:
        """The variable node at `path` below the container, and the full object path for messages."""
        i = self.backbone if container == "backbone" else self.model
        for part in path.split("/"):
            nxt = self.nodes[i].child(part)
            if nxt is None:
                base = self.paths[self.backbone if container == "backbone" else self.model]
                return None, f"{base}/{path}"
            i = nxt
        return i, self.paths.get(i, path)

    # ---- which values: EMA averages or model variables ----------------------------------------
    def _choose_values(self) -> str:
        slots: Dict[int, int] = {}
        other_slots = 0
        for n in self.nodes:
            for orig, name, s in n.slot_variables:
                if name == EMA_SLOT:
                    slots[orig] = s
                else:
                    other_slots += 1
        self._ema_slots = slots
        self._has_optimizer = bool(slots) or other_slots > 0
        ema_action = os.path.basename(self.prefix).startswith(EMA_CHECKPOINT_PREFIX)
        if not self.use_ema:
            if ema_action:
                raise self._fail(f"--no-ema, but this is an EMA checkpoint ({EMA_CHECKPOINT_PREFIX}-N, saved with the "
                                 "averages swapped into the model): its model variables are the EMA values. "
                                 "Convert the trainer's checkpoint (ckpt-N) with --no-ema for the raw values")
            return "model"
        if ema_action:
            return "ema-swapped"  # saved between two swap_weights(): the variables are the averages
        if slots:
            return "ema-slots"
        if self._has_optimizer:
            raise self._fail("the checkpoint has an optimizer but no ExponentialMovingAverage 'average' slots; "
                             "the Model Garden's resnet_rs_imagenet evaluates the EMA weights. Refusing to use "
                             "the raw training values; pass --no-ema to convert them anyway")
        return "model"  # a model-only checkpoint: its variables are what the Model Garden restores

    def _var_key(self, h5: str, container: str, path: str) -> Tuple[str, str]:
        """(checkpoint key to read, object path) of one of our tensors."""
        node, full = self._node_at(container, path)
        if node is None or self.nodes[node].variable_key is None:
            raise self._fail(f"missing variable {full} (for {h5})")
        if self._ema_mode == "ema-slots":
            s = self._ema_slots.get(node)
            if s is None or self.nodes[s].variable_key is None:
                return "", full
            return self.nodes[s].variable_key, full
        return self.nodes[node].variable_key, full

    def num_classes(self) -> int:
        node, full = self._node_at("model", f"{G.HEAD_LAYER}/bias")
        key = self.nodes[node].variable_key if node is not None else None
        if key is None or key not in self._avail:
            raise self._fail(f"missing variable {full}")
        shp = self._avail[key][1]
        if len(shp) != 1 or shp[0] < 1:
            raise self._fail(f"wrong shape: {key} has shape {list(shp)}, expected [num_classes]")
        return int(shp[0])

    def plan(self, depth: int) -> List[PlanItem]:
        items: List[PlanItem] = []
        no_ema: List[str] = []
        self._model_keys: Set[str] = set()
        for t in M.tensors(depth, self.num_classes()):
            container, path = G.garden_object_path(t, depth)
            key, full = self._var_key(t.h5, container, path)
            if not key:
                no_ema.append(full)
                continue
            node, _ = self._node_at(container, path)
            self._model_keys.add(self.nodes[node].variable_key)
            items.append(PlanItem(t, key, t.tf_shape, t.layout if t.layout != "vec" else "none"))
        if no_ema:
            raise self._fail(f"no EMA 'average' slot for {_short_list(no_ema)} (the other variables have one)")
        self._check(items, self._avail, self.reader.index_path)
        self.reader.check_data_files([it.key for it in items])
        return items

    # ---- the rest of Source ---------------------------------------------------------------------
    def list(self):
        return [(e.name, e.dtype, e.shape) for e in self.reader.entries()]

    def read(self, key: str) -> np.ndarray:
        return self.reader.read(key)

    def description(self) -> str:
        parts = os.path.abspath(self.prefix).split(os.sep)
        short = "/".join(parts[-2:])
        what = {"ema-slots": "EMA: the optimizer's 'average' slots",
                "ema-swapped": "EMA: the model variables of an EMA checkpoint",
                "model": ("raw values, no EMA" if not self.use_ema
                          else "model variables; the checkpoint has no optimizer")}[self._ema_mode]
        return f"tf2-garden-checkpoint:{short} ({what})"

    def ignored(self, used: set) -> List[str]:
        out = []
        for n in self._avail:
            if n in used or n in self._model_keys or n == OBJECT_GRAPH_KEY:
                continue
            if "/.OPTIMIZER_SLOT/" in n:
                continue  # EMA averages not used, momentum
            top = n.split("/", 1)[0]
            if top in ("optimizer", "global_step", "save_counter"):
                continue
            out.append(n)
        return sorted(out)

    def close(self):
        self.reader.close()

