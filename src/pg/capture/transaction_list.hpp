// What change capture notes during a transaction (the batch ranges the row triggers widen, the
// sources whose rows were modified) lives in plain C lists in TopTransactionContext: dropped with
// the transaction, and recognised as the current one's by its local transaction id, so a list
// left by an aborted transaction is never read. Plain C: the row triggers' WHEN functions call
// this for every row, outside any C++ guard (an out-of-memory ERROR longjmps through it; it
// holds nothing with a destructor).
#pragma once

#include "pg/boundary/pg_headers.hpp"

extern "C" {
#include "storage/proc.h"
#include "utils/memutils.h"
}

namespace incmodel::pg {

// Node is a plain C struct with a `Node *next` member.
template <typename Node>
class TransactionList {
  public:
    // The first node noted in the current transaction, or nullptr.
    Node *head() {
        if (lxid_ != MyProc->lxid) {
            head_ = nullptr;
            lxid_ = MyProc->lxid;
        }
        return head_;
    }
    // The current transaction's first node that matches (a predicate on a node), or nullptr.
    template <typename Match>
    Node *find(Match matches) {
        for (Node *n = head(); n != nullptr; n = n->next)
            if (matches(n)) return n;
        return nullptr;
    }
    // A new zeroed node at the head, allocated for the life of the current transaction.
    Node *add() {
        Node *first = head();
        auto *n = static_cast<Node *>(MemoryContextAllocZero(TopTransactionContext, sizeof(Node)));
        n->next = first;
        head_ = n;
        return n;
    }
    // Forgets the current transaction's nodes (their memory goes with the transaction).
    void clear() { head_ = nullptr; }
    // Whether the list was used in the current transaction (false: nothing noted yet).
    bool current() const { return lxid_ == MyProc->lxid; }

  private:
    Node *head_ = nullptr;
    LocalTransactionId lxid_ = InvalidLocalTransactionId;
};

}  // namespace incmodel::pg
