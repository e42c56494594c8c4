// The panel's home: a few figures read at each visit.
import React, { useEffect, useState } from 'react'
import { ApiClient } from 'adminjs'
import { Box, H2, H3, Loader, MessageBox, Text } from '@adminjs/design-system'

const api = new ApiClient()

const Figure = ({ label, value, testId }) => (
  <Box variant="card" p="xl" m="default" width={['100%', '45%', '22%']} data-testid={testId}>
    <Text color="grey60">{label}</Text>
    <H2>{value}</H2>
  </Box>
)

const Dashboard = () => {
  const [data, setData] = useState(null)
  const [error, setError] = useState(null)
  useEffect(() => {
    api
      .getDashboard()
      .then((r) => setData(r.data))
      .catch(() => setError('The figures could not be loaded.'))
  }, [])
  if (error) return <Box p="xxl"><MessageBox variant="danger" message={error} /></Box>
  if (!data) return <Box p="xxl"><Loader /></Box>
  const chain = data.chain
  return (
    <Box p="xxl">
      <H3>Numina</H3>
      <Box flex flexWrap="wrap">
        <Figure label="Users" value={data.usersTotal} testId="users-total" />
        <Figure label="Active logins" value={data.activeLogins} testId="active-logins" />
        <Figure label="Events delivered (last hour)" value={data.eventsLastHour} testId="events-last-hour" />
        <Figure label="Audit chain" value={chain.ok ? 'intact' : 'BROKEN'} testId="chain-status" />
      </Box>
      <Box mt="xl">
        {chain.ok ? (
          <MessageBox variant="success" message={`Audit chain intact: ${chain.checked} entries checked (verified ${chain.verifiedAt}).`} />
        ) : (
          <MessageBox
            variant="danger"
            message={`Audit chain BROKEN after ${chain.checked} entries. First bad entry: seq ${chain.firstBad.seq} (id ${chain.firstBad.id}): ${chain.firstBad.reason}.`}
          />
        )}
      </Box>
    </Box>
  )
}

export default Dashboard
