"""What keeps every action safe, whichever capability carries it out.

- one action per guest at a time, across processes (`guestlock`), and signals taken between steps, never
  in the middle of one (`signals`);
- the intent on disk before the first change (`journal`, and which unfinished entries a session sees:
  `journal_scope`) and the outcome on record after it (`audit`);
- one running copy of a guest: every host ztui knows (`known_hosts`) asked whether the guest runs there
  (`other_copies`), and whether libvirt itself guards its disks (`lock_manager`).
"""
