"""The object graph of a TF2 object-based checkpoint (`tf.train.Checkpoint`, Keras `save_weights`).

A TF2 checkpoint is a V2 tensor bundle whose keys are object paths
(`backbone/layer_with_weights-8/_conv1/kernel/.ATTRIBUTES/VARIABLE_VALUE`) plus one string tensor,
`_CHECKPOINTABLE_OBJECT_GRAPH`: a serialized `tensorflow.TrackableObjectGraph` protobuf
(tensorflow/core/protobuf/trackable_object_graph.proto) that lists every saved object (node 0 is
the root) with its named children, the tensors it saved (with their checkpoint keys) and, for an
optimizer, its slot variables (original variable node -> slot node, by slot name). We decode it
with the bundle reader's protobuf wire-format walker; no TensorFlow or protobuf package is needed.

    message TrackableObjectGraph { repeated TrackableObject nodes = 1; }
    message TrackableObject {
      repeated ObjectReference children = 1;        // { int32 node_id = 1; string local_name = 2; }
      repeated SerializedTensor attributes = 2;     // { string name = 1; string full_name = 2;
                                                    //   string checkpoint_key = 3; }
      repeated SlotVariableReference slot_variables = 3;  // { int32 original_variable_node_id = 1;
                                                    //   string slot_name = 2; int32 slot_variable_node_id = 3; }
      ...                                           // registered_saver = 4, has_checkpoint_values = 5
    }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .tf_bundle import iter_proto_fields

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
VARIABLE_VALUE = "VARIABLE_VALUE"


class ObjectGraphError(Exception):
    """The object graph cannot be decoded."""


@dataclass
class Node:
    children: Dict[str, int] = field(default_factory=dict)        # local name -> node id
    attributes: Dict[str, str] = field(default_factory=dict)      # tensor name -> checkpoint key
    slot_variables: List[Tuple[int, str, int]] = field(default_factory=list)  # (original, slot, slot node)

    def child(self, name: str) -> Optional[int]:
        return self.children.get(name)

    @property
    def variable_key(self) -> Optional[str]:
        """The checkpoint key of a variable node's value."""
        return self.attributes.get(VARIABLE_VALUE)


def _text(b: object, what: str) -> str:
    if not isinstance(b, bytes):
        raise ObjectGraphError(f"{what}: expected a string field")
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise ObjectGraphError(f"{what}: not UTF-8") from None


def _int(v: object, what: str) -> int:
    if not isinstance(v, int):
        raise ObjectGraphError(f"{what}: expected an integer field")
    return v


def _node(buf: bytes, index: int) -> Node:
    n = Node()
    for fno, _, val in iter_proto_fields(buf):
        if fno == 1:  # ObjectReference
            node_id, name = None, None
            for f2, _, v2 in iter_proto_fields(_bytes(val, index)):
                if f2 == 1:
                    node_id = _int(v2, f"node {index} child")
                elif f2 == 2:
                    name = _text(v2, f"node {index} child name")
            if node_id is None or name is None:
                raise ObjectGraphError(f"node {index}: a child reference without id or name")
            n.children[name] = node_id
        elif fno == 2:  # SerializedTensor
            name, key = None, None
            for f2, _, v2 in iter_proto_fields(_bytes(val, index)):
                if f2 == 1:
                    name = _text(v2, f"node {index} attribute name")
                elif f2 == 3:
                    key = _text(v2, f"node {index} checkpoint key")
            if name is not None and key is not None:
                n.attributes[name] = key
        elif fno == 3:  # SlotVariableReference
            orig, slot, slot_node = None, None, None
            for f2, _, v2 in iter_proto_fields(_bytes(val, index)):
                if f2 == 1:
                    orig = _int(v2, f"node {index} slot variable")
                elif f2 == 2:
                    slot = _text(v2, f"node {index} slot name")
                elif f2 == 3:
                    slot_node = _int(v2, f"node {index} slot variable")
            if orig is None or slot is None or slot_node is None:
                raise ObjectGraphError(f"node {index}: an incomplete slot variable reference")
            n.slot_variables.append((orig, slot, slot_node))
    return n


def _bytes(v: object, index: int) -> bytes:
    if not isinstance(v, bytes):
        raise ObjectGraphError(f"node {index}: expected a message field")
    return v


def parse_object_graph(buf: bytes) -> List[Node]:
    """The nodes of a serialized TrackableObjectGraph, node 0 being the root."""
    nodes: List[Node] = []
    try:
        for fno, _, val in iter_proto_fields(buf):
            if fno == 1:
                nodes.append(_node(_bytes(val, len(nodes)), len(nodes)))
    except ValueError as e:
        raise ObjectGraphError(f"corrupted protobuf ({e})") from None
    if not nodes:
        raise ObjectGraphError("no objects")
    for i, n in enumerate(nodes):
        for name, c in n.children.items():
            if not 0 <= c < len(nodes):
                raise ObjectGraphError(f"node {i}: child '{name}' points to node {c} of {len(nodes)}")
        for orig, slot, s in n.slot_variables:
            if not (0 <= orig < len(nodes) and 0 <= s < len(nodes)):
                raise ObjectGraphError(f"node {i}: slot variable '{slot}' points outside the graph")
    return nodes


def paths_from_root(nodes: List[Node]) -> Dict[int, str]:
    """A shortest object path of every node reachable from the root (breadth first, as TF names keys)."""
    out = {0: ""}
    queue = [0]
    while queue:
        nxt = []
        for i in queue:
            for name, c in nodes[i].children.items():
                if c not in out:
                    out[c] = f"{out[i]}/{name}" if out[i] else name
                    nxt.append(c)
        queue = nxt
    return out
