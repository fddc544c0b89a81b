/* ember.Size: the tuple subclass that ``Tensor.shape`` returns, as torch.Size.
 *
 * Written in C rather than as a Python class because ``x.shape`` and ``x.shape[0]``
 * are among the most frequent calls of user code: a Python-level ``__getitem__``
 * (needed so that slicing gives a Size) costs a frame per index, and instantiating a
 * Python tuple subclass costs a type call.  Here indexing is the tuple's own, and
 * em_size_from builds a Size straight from a shape array. */
#ifndef EMBER_SIZE_TYPE_H
#define EMBER_SIZE_TYPE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyTypeObject EmSize_Type;

/* A Size holding the n ints of shape. */
static PyObject *em_size_from(const Py_ssize_t *shape, int n)
{
    PyObject *size = EmSize_Type.tp_alloc(&EmSize_Type, n);
    if (size == NULL) {
        return NULL;
    }
    for (int d = 0; d < n; d++) {
        PyObject *item = PyLong_FromSsize_t(shape[d]);
        if (item == NULL) {
            Py_DECREF(size);
            return NULL;
        }
        PyTuple_SET_ITEM(size, d, item);
    }
    return size;
}

/* A Size holding the items of the tuple t (a new reference). */
static PyObject *em_size_of_tuple(PyObject *t)
{
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    PyObject *size = EmSize_Type.tp_alloc(&EmSize_Type, n);
    if (size == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(t, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(size, i, item);
    }
    return size;
}

static PyObject *size_subscript(PyObject *self, PyObject *item)
{
    PyObject *r = PyTuple_Type.tp_as_mapping->mp_subscript(self, item);
    if (r != NULL && PySlice_Check(item)) {        /* x.shape[1:] is a Size too */
        PyObject *size = em_size_of_tuple(r);
        Py_DECREF(r);
        return size;
    }
    return r;
}

static PyObject *size_concat(PyObject *self, PyObject *other)
{
    if (!PyTuple_Check(other)) {
        PyErr_Format(PyExc_TypeError, "can only concatenate tuple (not \"%.200s\") to ember.Size",
                     Py_TYPE(other)->tp_name);
        return NULL;
    }
    PyObject *joined = PyTuple_Type.tp_as_sequence->sq_concat(self, other);
    if (joined == NULL) {
        return NULL;
    }
    PyObject *size = em_size_of_tuple(joined);
    Py_DECREF(joined);
    return size;
}

static PyObject *size_repr(PyObject *self)
{
    PyObject *items = PySequence_List(self);
    if (items == NULL) {
        return NULL;
    }
    PyObject *r = PyUnicode_FromFormat("ember.Size(%R)", items);
    Py_DECREF(items);
    return r;
}

static PyObject *size_numel(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *n = PyLong_FromLong(1);
    for (Py_ssize_t i = 0; n != NULL && i < PyTuple_GET_SIZE(self); i++) {
        PyObject *next = PyNumber_Multiply(n, PyTuple_GET_ITEM(self, i));
        Py_DECREF(n);
        n = next;
    }
    return n;
}

static PyObject *size_reduce(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *items = PyTuple_GetSlice(self, 0, PyTuple_GET_SIZE(self));
    if (items == NULL) {
        return NULL;
    }
    return Py_BuildValue("(O(N))", (PyObject *)&EmSize_Type, items);
}

static PyMethodDef size_methods[] = {
    {"numel", size_numel, METH_NOARGS, "Product of the sizes."},
    {"__reduce__", size_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods size_as_mapping = {0, size_subscript, 0};
static PySequenceMethods size_as_sequence = {0, size_concat};

/* Ready the type (once, at module import); returns it as a new reference. */
static PyObject *em_size_type_ready(void)
{
    if (EmSize_Type.tp_flags & Py_TPFLAGS_READY) {
        Py_INCREF(&EmSize_Type);
        return (PyObject *)&EmSize_Type;
    }
    EmSize_Type.tp_name = "ember.Size";
    EmSize_Type.tp_doc = "The shape of a tensor: a tuple of ints, as ``torch.Size``.";
    EmSize_Type.tp_base = &PyTuple_Type;
    EmSize_Type.tp_basicsize = PyTuple_Type.tp_basicsize;
    EmSize_Type.tp_itemsize = PyTuple_Type.tp_itemsize;
    EmSize_Type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_TUPLE_SUBCLASS;
    EmSize_Type.tp_repr = size_repr;
    EmSize_Type.tp_as_mapping = &size_as_mapping;
    EmSize_Type.tp_as_sequence = &size_as_sequence;
    EmSize_Type.tp_methods = size_methods;
    if (PyType_Ready(&EmSize_Type) < 0) {
        return NULL;
    }
    Py_INCREF(&EmSize_Type);
    return (PyObject *)&EmSize_Type;
}

#endif
