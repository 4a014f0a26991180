"""The fault bench (`make faults`): ztui's actions struck by faults on the lab, judged from the hosts."""
