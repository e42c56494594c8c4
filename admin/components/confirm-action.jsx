// A user action's page: says what will happen, and only the button POSTs (a GET changes nothing).
import React, { useState } from 'react'
import { ApiClient, useNotice } from 'adminjs'
import { Box, Button, H3, MessageBox, Text } from '@adminjs/design-system'

const api = new ApiClient()

const ConfirmAction = (props) => {
  const { action, resource, record } = props
  const addNotice = useNotice()
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState(null)
  if (!record) return null
  const run = async () => {
    setBusy(true)
    try {
      const response = await api.recordAction({
        resourceId: resource.id,
        recordId: record.id,
        actionName: action.name,
        data: { confirm: true },
        method: 'post',
      })
      const notice = response.data.notice
      if (notice) addNotice(notice)
      setResult(notice || { message: 'Done.', type: 'success' })
      if (notice && notice.type === 'success' && response.data.redirectUrl) {
        window.location.assign(response.data.redirectUrl)
      }
    } catch (e) {
      setResult({ message: 'The request failed. Reload the page and try again.', type: 'error' })
    } finally {
      setBusy(false)
    }
  }
  return (
    <Box variant="container" data-testid="confirm-action">
      <H3>{action.label}: {record.params.email}</H3>
      <Text my="lg">{action.custom && action.custom.prompt}</Text>
      {result && <MessageBox my="lg" message={result.message} variant={result.type === 'error' ? 'danger' : 'success'} />}
      <Button variant={action.custom && action.custom.variant === 'danger' ? 'danger' : 'contained'} disabled={busy} onClick={run} data-testid="confirm-button">
        {action.label}
      </Button>
    </Box>
  )
}

export default ConfirmAction
